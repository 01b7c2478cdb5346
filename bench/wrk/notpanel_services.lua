dofile(debug.getinfo(1, "S").source:sub(2):match("(.*/)") .. "common.lua")
local keys = lines(os.getenv("KEYS"))
if os.getenv("NP_GZIP") == "1" then wrk.headers["Accept-Encoding"] = "gzip" end
local n = 0
function request()
  n = n + 1
  return wrk.format(nil, nil, nil, "key=" .. keys[n % #keys + 1] .. "&action=services")
end

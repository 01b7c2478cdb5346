dofile(debug.getinfo(1, "S").source:sub(2):match("(.*/)") .. "common.lua")
local n = 0
function request()
  n = n + 1
  local order = n % 100000 + 1
  local user = math.floor((order - 1) / 100) % 1000 + 1
  return wrk.format(nil, nil, nil, string.format("key=key%032d&order=%d", user, order))
end

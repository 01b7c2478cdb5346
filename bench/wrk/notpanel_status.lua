dofile(debug.getinfo(1, "S").source:sub(2):match("(.*/)") .. "common.lua")
local pairs_ = lines(os.getenv("ORDERS")) -- "key order"
local n = 0
function request()
  n = n + 1
  local key, order = pairs_[n % #pairs_ + 1]:match("(%S+) (%S+)")
  return wrk.format(nil, nil, nil, "key=" .. key .. "&action=status&order=" .. order)
end

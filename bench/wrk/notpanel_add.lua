dofile(debug.getinfo(1, "S").source:sub(2):match("(.*/)") .. "common.lua")
local keys = lines(os.getenv("KEYS"))
local service = os.getenv("SERVICE")
local n = 0
function request()
  n = n + 1
  -- a request_id of its own for each add (thread, sequence, and a random
  -- part so that two runs never collide)
  local body = string.format("key=%s&action=add&service=%s&link=https%%3A%%2F%%2Finstagram.com%%2Fp%%2Fx&quantity=100&request_id=w%d-%d-%d",
    keys[n % #keys + 1], service, id, n, math.random(1000000000))
  return wrk.format(nil, nil, nil, body)
end

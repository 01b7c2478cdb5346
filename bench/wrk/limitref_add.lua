dofile(debug.getinfo(1, "S").source:sub(2):match("(.*/)") .. "common.lua")
local n = 0
function request()
  n = n + 1
  return wrk.format(nil, nil, nil, string.format(
    "key=key%032d&service=1&link=https%%3A%%2F%%2Finstagram.com%%2Fp%%2Fx&quantity=100", n % 1000 + 1))
end

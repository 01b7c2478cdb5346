-- Shared by the scripts: form posts, and the keys and orders of the panel
-- that run.sh set up.
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/x-www-form-urlencoded"

function lines(path)
  local out = {}
  for line in io.lines(path) do out[#out + 1] = line end
  return out
end

local threads = 0
function setup(thread)
  threads = threads + 1
  thread:set("id", threads)
end

-- wrk script of bench_serve.py: one GET per request, cycling through the ids of a file in a fixed
-- pseudo-random order (stride 7919), each wrk thread starting at its own offset.
--   CYCLE_FILE  one id per line (train users, artists or items)
--   CYCLE_PATH  the request path, with {id} where the percent-encoded id goes,
--               e.g. /v1/users/{id}/recommendations?k=20
-- The requests are formatted once per thread in init(), so the load generator spends its time on I/O.

local file = os.getenv("CYCLE_FILE")
local template = os.getenv("CYCLE_PATH")
if file == nil or template == nil then
  error("set CYCLE_FILE (ids, one a line) and CYCLE_PATH (the path with {id})")
end

local threads = 0
function setup(thread)
  threads = threads + 1
  thread:set("offset", threads - 1)
end

local function encode(id)
  return (id:gsub("[^%w%-%._~]", function(c) return string.format("%%%02X", string.byte(c)) end))
end

local requests = {}
local n = 0
function init(args)
  local ids = {}
  for line in io.lines(file) do
    if line ~= "" then ids[#ids + 1] = line end
  end
  if #ids == 0 then error(file .. " holds no ids") end
  -- A stride coprime with the count visits every id once per cycle.
  local stride = 7919
  while #ids % stride == 0 do stride = stride + 2 end
  for k = 0, #ids - 1 do
    local id = ids[(k * stride) % #ids + 1]
    local path = template:gsub("{id}", function() return encode(id) end)
    requests[k + 1] = wrk.format("GET", path)
  end
  n = ((offset or 0) * 997) % #requests
end

function request()
  n = n + 1
  if n > #requests then n = 1 end
  return requests[n]
end

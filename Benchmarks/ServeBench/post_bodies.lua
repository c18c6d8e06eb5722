-- wrk script of bench_serve.py: one POST per request, cycling through JSON bodies, one per line of a file,
-- in a fixed pseudo-random order (stride 7919), each wrk thread starting at its own offset.
--   BODY_FILE  one JSON body per line (e.g. sessions for /v1/sessions/next)
--   BODY_PATH  the request path, e.g. /v1/sessions/next
-- The requests are formatted once per thread in init(), so the load generator spends its time on I/O.

local file = os.getenv("BODY_FILE")
local path = os.getenv("BODY_PATH")
if file == nil or path == nil then
  error("set BODY_FILE (JSON bodies, one a line) and BODY_PATH (the request path)")
end

local threads = 0
function setup(thread)
  threads = threads + 1
  thread:set("offset", threads - 1)
end

local requests = {}
local n = 0
function init(args)
  local bodies = {}
  for line in io.lines(file) do
    if line ~= "" then bodies[#bodies + 1] = line end
  end
  if #bodies == 0 then error(file .. " holds no bodies") end
  local stride = 7919
  while #bodies % stride == 0 do stride = stride + 2 end
  local headers = { ["Content-Type"] = "application/json" }
  for k = 0, #bodies - 1 do
    requests[k + 1] = wrk.format("POST", path, headers, bodies[(k * stride) % #bodies + 1])
  end
  n = ((offset or 0) * 997) % #requests
end

function request()
  n = n % #requests + 1
  return requests[n]
end

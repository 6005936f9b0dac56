-- wrk script of scripts/bench-serve: GET /v1/shops/{shop}/contacts?email=… for random addresses of the
-- list (BENCH_ADDRESSES, one a line: the first BENCH_EXISTING are addresses someone has, the rest nobody's),
-- BENCH_EXISTING_SHARE percent existing ones. The key comes from BENCH_API_KEY (never a command-line
-- argument). done() prints one machine-readable line; status counts come from the server's /metrics.
local addresses, existing, total = {}, 0, 0
local share = tonumber(os.getenv("BENCH_EXISTING_SHARE") or "80")
local prefix = "/v1/shops/" .. os.getenv("BENCH_SHOP") .. "/contacts?email="
local headers = { ["Authorization"] = "Bearer " .. os.getenv("BENCH_API_KEY") }

local function encode(s)
  return (s:gsub("[^%w%.%-_~@]", function(c) return string.format("%%%02X", string.byte(c)) end))
end

local counter = 0
function setup(thread)
  counter = counter + 1
  thread:set("seed", counter)
end

function init(args)
  for line in io.lines(os.getenv("BENCH_ADDRESSES")) do
    total = total + 1
    addresses[total] = prefix .. encode(line)
  end
  existing = tonumber(os.getenv("BENCH_EXISTING"))
  math.randomseed(os.time() * 100 + (seed or 0))
end

function request()
  local i
  if math.random(100) <= share then i = math.random(existing) else i = math.random(existing + 1, total) end
  return wrk.format("GET", addresses[i], headers)
end

function done(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    "WRK requests=%d duration_us=%d p50_us=%d p99_us=%d max_us=%d connect=%d read=%d write=%d status=%d timeout=%d\n",
    summary.requests, summary.duration, latency:percentile(50), latency:percentile(99), latency.max,
    e.connect, e.read, e.write, e.status, e.timeout))
end

-- The soak's request mix: each thread walks the list of requests written by mix.ts (one table of
-- { method, path, body } per line of SOAK_REQUESTS), sending one per slot of 1/rate s, and counts
-- answers by status class. The counts of every thread are summed in done().
local rate = tonumber(os.getenv("WRK_RATE_PER_THREAD") or "")
local ffi = require("ffi")
ffi.cdef[[
  typedef struct { long tv_sec; long tv_nsec; } soak_timespec;
  int clock_gettime(int clock, soak_timespec *now);
]]
local clock = ffi.new("soak_timespec")
local function now_ms()
  ffi.C.clock_gettime(1, clock)
  return tonumber(clock.tv_sec) * 1000 + tonumber(clock.tv_nsec) / 1e6
end

local threads = {}
setup = function(thread)
  table.insert(threads, thread)
end

local requests = {}
local index = 0
-- A global, so done() can read every thread's with thread:get.
counts = { ["2"] = 0, ["3"] = 0, ["4"] = 0, ["5"] = 0 }
local interval_ms = rate and 1000 / rate or 0
local next_slot = 0

init = function(args)
  requests = dofile(os.getenv("SOAK_REQUESTS"))
  index = math.random(#requests)
end

delay = function()
  if not rate then return 0 end
  local now = now_ms()
  if next_slot < now then next_slot = now end
  local wait = next_slot - now
  next_slot = next_slot + interval_ms
  return wait
end

request = function()
  index = index % #requests + 1
  local r = requests[index]
  return wrk.format(r.method, r.path, r.headers, r.body)
end

response = function(status, headers, body)
  local class = tostring(math.floor(status / 100))
  counts[class] = (counts[class] or 0) + 1
end

done = function(summary, latency, requests)
  local total = { ["2"] = 0, ["3"] = 0, ["4"] = 0, ["5"] = 0 }
  for _, thread in ipairs(threads) do
    for class, _ in pairs(total) do
      total[class] = total[class] + (thread:get("counts")[class] or 0)
    end
  end
  local e = summary.errors
  io.write(string.format(
    "SOAK requests=%d duration_us=%d s2xx=%d s3xx=%d s4xx=%d s5xx=%d connect=%d read=%d write=%d timeout=%d p50_us=%d p95_us=%d p99_us=%d max_us=%d\n",
    summary.requests, summary.duration, total["2"], total["3"], total["4"], total["5"],
    e.connect, e.read, e.write, e.timeout,
    latency:percentile(50), latency:percentile(95), latency:percentile(99), latency.max))
end

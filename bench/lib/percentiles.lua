-- Prints one parseable line after the run: wrk's own report has no p95.
-- Latencies are in microseconds, duration too.
-- With a JSON body after the URL (wrk <options> <url> -- '<json>'), every request POSTs it.
-- With WRK_RATE_PER_THREAD set, each thread sends at that steady rate, one request per slot of
-- 1/rate s on whichever of its connections is free, instead of as fast as answers come back: the
-- latency at a given load rather than at saturation. wrk calls delay() (ms) before every request.
-- A slot a busy server made the thread miss is dropped, not made up later, so the rate reached is
-- lower than asked when the server cannot keep up: the caller checks it.
local rate = tonumber(os.getenv("WRK_RATE_PER_THREAD") or "")
if rate then
  local ffi = require("ffi")
  ffi.cdef[[
    typedef struct { long tv_sec; long tv_nsec; } bench_timespec;
    int clock_gettime(int clock, bench_timespec *now);
  ]]
  local CLOCK_MONOTONIC = 1
  local clock = ffi.new("bench_timespec")
  local function now_ms()
    ffi.C.clock_gettime(CLOCK_MONOTONIC, clock)
    return tonumber(clock.tv_sec) * 1000 + tonumber(clock.tv_nsec) / 1e6
  end
  local interval_ms = 1000 / rate
  local next_slot = 0
  delay = function()
    local now = now_ms()
    if next_slot < now then next_slot = now end
    local wait = next_slot - now
    next_slot = next_slot + interval_ms
    return wait
  end
end

init = function(args)
  if args[1] then
    wrk.method = "POST"
    wrk.headers["Content-Type"] = "application/json"
    wrk.body = args[1]
  end
end

done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    "BENCH requests=%d duration_us=%d bytes=%d connect=%d read=%d write=%d status=%d timeout=%d p50_us=%d p95_us=%d p99_us=%d max_us=%d\n",
    summary.requests, summary.duration, summary.bytes, e.connect, e.read, e.write, e.status, e.timeout,
    latency:percentile(50), latency:percentile(95), latency:percentile(99), latency.max))
end

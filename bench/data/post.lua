-- POSTs the JSON given after the URL (wrk <options> <url> -- '<json>') with every request, then
-- prints the same parseable line as ../lib/percentiles.lua (wrk's own report has no p95).
-- Latencies and duration in microseconds.
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"

init = function(args)
  wrk.body = args[1]
end

done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    "BENCH requests=%d duration_us=%d bytes=%d connect=%d read=%d write=%d status=%d timeout=%d p50_us=%d p95_us=%d p99_us=%d max_us=%d\n",
    summary.requests, summary.duration, summary.bytes, e.connect, e.read, e.write, e.status, e.timeout,
    latency:percentile(50), latency:percentile(95), latency:percentile(99), latency.max))
end

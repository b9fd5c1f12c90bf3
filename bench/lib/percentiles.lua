-- Prints one parseable line after the run: wrk's own report has no p95.
-- Latencies are in microseconds, duration too.
-- With a JSON body after the URL (wrk <options> <url> -- '<json>'), every request POSTs it.
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

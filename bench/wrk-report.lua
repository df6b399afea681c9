-- wrk-report.lua: appended by bench/run to every wrk script.  At the end of
-- a run it prints one machine-readable line that bench/run parses instead of
-- wrk's rounded human output:
--
--   BENCH requests=N duration_us=N bytes=N connect=N read=N write=N
--         status=N timeout=N p50_us=N p90_us=N p99_us=N max_us=N
--
-- (on one line).  "status" is wrk's count of answers with a status above
-- 399; the others are its socket errors.  Latencies are in microseconds.
-- Only done() is defined here, so wrk still sends its request without
-- calling Lua per request.

done = function(summary, latency, requests)
   local e = summary.errors
   io.write(string.format(
      "BENCH requests=%.0f duration_us=%.0f bytes=%.0f connect=%.0f " ..
      "read=%.0f write=%.0f status=%.0f timeout=%.0f p50_us=%.0f " ..
      "p90_us=%.0f p99_us=%.0f max_us=%.0f\n",
      summary.requests, summary.duration, summary.bytes,
      e.connect, e.read, e.write, e.status, e.timeout,
      latency:percentile(50), latency:percentile(90),
      latency:percentile(99), latency.max))
end

-- SPDX-License-Identifier: BSD-3-Clause
--
-- wrk.lua: what perf/run's wrk asks for, and one machine-readable summary line.
--
-- Environment (set by perf/harness/bench.py):
--   PERF_PATHS       file with one URL path per line; requests go round-robin through it, so
--                    every server reads the same set of files in the same order
--   PERF_RANGE       0: whole-file GETs. N > 0: every GET carries "Range: bytes=o-(o+N-1)"
--                    with o a multiple of N below PERF_RANGE_SPAN, stepping by a prime so the
--                    whole span is covered before an offset repeats
--   PERF_RANGE_SPAN  size of the file the ranges are cut from, bytes
--
-- The summary is printed by done() as one line starting with "WRK_JSON ": wrk's own text
-- output rounds and changes units, this does not. Latencies are in microseconds, from the
-- request's write to the last byte of its response (time to last byte); bytes are all bytes
-- wrk read, partial responses included.

local paths = {}
local range = tonumber(os.getenv("PERF_RANGE") or "0")
local span = tonumber(os.getenv("PERF_RANGE_SPAN") or "0")
local slots = 0
local n = 0

for line in io.lines(os.getenv("PERF_PATHS")) do
   if #line > 0 then
      paths[#paths + 1] = line
   end
end
if range > 0 then
   slots = math.floor(span / range)
end

function request()
   n = n + 1
   local path = paths[(n - 1) % #paths + 1]
   if slots > 0 then
      local offset = ((n * 7919) % slots) * range
      return wrk.format("GET", path, { ["Range"] = string.format("bytes=%d-%d", offset, offset + range - 1) })
   end
   return wrk.format("GET", path)
end

function done(summary, latency, requests)
   local e = summary.errors
   io.write(string.format(
      'WRK_JSON {"duration_us":%d,"requests":%d,"bytes":%d,"errors":{"connect":%d,"read":%d,"write":%d,' ..
      '"status":%d,"timeout":%d},"latency_us":{"min":%d,"p50":%d,"p90":%d,"p99":%d,"p999":%d,"max":%d,' ..
      '"mean":%.1f}}\n',
      summary.duration, summary.requests, summary.bytes, e.connect, e.read, e.write, e.status, e.timeout,
      latency.min, latency:percentile(50), latency:percentile(90), latency:percentile(99),
      latency:percentile(99.9), latency.max, latency.mean))
end

-- SPDX-License-Identifier: BSD-3-Clause
-- perf/http_ranges.lua: wrk script for perf/http_ranges.sh. Each request is a GET of one
-- aligned range of RANGE bytes, from the cold file with probability COLD_PERCENT and from the
-- hot file otherwise, at a uniformly random offset. Arguments (after --):
--   HOT_PATH HOT_SIZE COLD_PATH COLD_SIZE COLD_PERCENT RANGE
-- done() prints one JSON object: requests, bytes, seconds, non-206 answers, socket errors and
-- latency percentiles in microseconds.
local threads = {}
local hot_path, hot_size, cold_path, cold_size, cold_percent, range_len

function setup(thread)
  table.insert(threads, thread)
  thread:set("id", #threads)
end

function init(args)
  hot_path, hot_size = args[1], tonumber(args[2])
  cold_path, cold_size = args[3], tonumber(args[4])
  cold_percent, range_len = tonumber(args[5]), tonumber(args[6])
  math.randomseed(os.time() * 1000 + (id or 0))
  wrong = 0
end

function request()
  local path, size = hot_path, hot_size
  if math.random(100) <= cold_percent then path, size = cold_path, cold_size end
  local first = math.random(0, math.floor(size / range_len) - 1) * range_len
  return wrk.format("GET", path, {["Range"] = "bytes=" .. first .. "-" .. (first + range_len - 1)})
end

function response(status, headers, body)
  if status ~= 206 then wrong = wrong + 1 end
end

function done(summary, latency, requests)
  local wrong_total = 0
  for _, t in ipairs(threads) do wrong_total = wrong_total + (t:get("wrong") or 0) end
  local e = summary.errors
  io.write(string.format(
    '{"requests":%d,"bytes":%d,"seconds":%.3f,"non_206":%d,"socket_errors":%d,' ..
    '"latency_us":{"p50":%d,"p90":%d,"p99":%d,"max":%d}}\n',
    summary.requests, summary.bytes, summary.duration / 1e6, wrong_total,
    e.connect + e.read + e.write + e.timeout + e.status,
    latency:percentile(50), latency:percentile(90), latency:percentile(99), latency.max))
end

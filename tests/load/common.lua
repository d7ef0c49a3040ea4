-- Shared by the wrk scripts of tests/load (loaded with dofile): numbers each thread, counts
-- statuses per thread and prints one machine-readable line at the end, which loadlib.py reads:
--   WRKJSON {"requests":N,"duration_us":N,"errors":{...},"latency_us":{...},"status":{...}}
local threads = {}
local counter = 0

function setup(thread)
   counter = counter + 1
   thread:set("thread_no", counter)
   table.insert(threads, thread)
end

status_counts = {}

function count_status(status)
   status_counts[status] = (status_counts[status] or 0) + 1
end

local function statuses_json()
   local total = {}
   for _, t in ipairs(threads) do
      local counts = t:get("status_counts") or {}
      for s, n in pairs(counts) do
         total[s] = (total[s] or 0) + n
      end
   end
   local parts = {}
   for s, n in pairs(total) do
      table.insert(parts, string.format('"%d":%d', s, n))
   end
   return "{" .. table.concat(parts, ",") .. "}"
end

function done(summary, latency, requests)
   local e = summary.errors
   local p = {}
   for _, q in ipairs({50, 90, 99, 99.9}) do
      table.insert(p, string.format('"p%s":%d', tostring(q), latency:percentile(q)))
   end
   table.insert(p, string.format('"max":%d', latency.max))
   table.insert(p, string.format('"mean":%.1f', latency.mean))
   io.write(string.format(
      'WRKJSON {"requests":%d,"duration_us":%d,"bytes":%d,' ..
      '"errors":{"connect":%d,"read":%d,"write":%d,"status":%d,"timeout":%d},' ..
      '"latency_us":{%s},"status":%s}\n',
      summary.requests, summary.duration, summary.bytes, e.connect, e.read, e.write,
      e.status, e.timeout, table.concat(p, ","), statuses_json()))
end

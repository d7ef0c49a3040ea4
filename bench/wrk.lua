-- bench/wrk.lua: wrk script for bench/run.sh, the service's own ceiling for the batch step.
-- Usage: wrk -c N -t T -d 10s -s bench/wrk.lua URL -- HEADER_FILE REQUESTS_FILE
--   HEADER_FILE:   one "Name: value" line per header (the bearer token), kept in the bench's
--                  private temporary directory so the token never reaches argv or the terminal;
--   REQUESTS_FILE: one request per line, "METHOD<TAB>PATH<TAB>BODY" (BODY may be empty), the
--                  same inputs as the carhelp batch; each thread cycles through them in order.
-- On exit prints one line "wrk-summary {json}" (requests, duration_us, errors) for run.sh.

local requests = {}
local n = 0
local i = 0

function init(args)
    local headers = {}
    for line in io.lines(args[1]) do
        local name, value = line:match("^([^:]+):%s*(.-)%s*$")
        if name then headers[name] = value end
    end
    for line in io.lines(args[2]) do
        local method, path, body = line:match("^([^\t]+)\t([^\t]+)\t?(.*)$")
        if method then
            local h = {}
            for k, v in pairs(headers) do h[k] = v end
            if body ~= "" then
                h["Content-Type"] = "application/json"
            else
                body = nil
            end
            n = n + 1
            requests[n] = wrk.format(method, path, h, body)
        end
    end
    if n == 0 then error("wrk.lua: no requests in " .. args[2]) end
end

function request()
    i = i % n + 1
    return requests[i]
end

function done(summary, latency, reqs)
    local e = summary.errors
    io.write(string.format(
        'wrk-summary {"requests":%d,"duration_us":%d,"connect":%d,"read":%d,"write":%d,' ..
        '"status":%d,"timeout":%d,"latency_mean_us":%.1f,"latency_p99_us":%d}\n',
        summary.requests, summary.duration, e.connect, e.read, e.write, e.status, e.timeout,
        latency.mean, latency:percentile(99)))
end

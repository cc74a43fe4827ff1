-- wrk script for bench/run.py: cycles through the requests listed in a file (one per line:
-- METHOD PATH TOKEN), so each can carry its own user's token, and prints the results as one
-- JSON line the runner reads.
local requests = {}
local next_index = 0

init = function(args)
  for line in io.lines(args[1]) do
    local method, path, token = line:match("^(%S+) (%S+) (%S+)$")
    local headers = {["Authorization"] = "Bearer " .. token}
    if method ~= "GET" then headers["Content-Length"] = "0" end
    requests[#requests + 1] = wrk.format(method, path, headers)
  end
end

request = function()
  next_index = next_index % #requests + 1
  return requests[next_index]
end

done = function(summary, latency, _)
  local errors = summary.errors
  io.write(string.format(
    'BENCH_JSON {"requests": %d, "duration_us": %d, "socket_errors": %d, "non_2xx": %d, ' ..
    '"p50_us": %d, "p90_us": %d, "p99_us": %d, "max_us": %d}\n',
    summary.requests, summary.duration, errors.connect + errors.read + errors.write + errors.timeout,
    errors.status, latency:percentile(50), latency:percentile(90), latency:percentile(99), latency.max))
end

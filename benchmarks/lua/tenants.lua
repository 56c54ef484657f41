-- Requests GET /api/tracks/<n> with X-Tenant-ID rotating over BENCH_TENANTS tenants.
-- BENCH_DELAY_MS > 0 paces each connection (mean think time, uniform jitter) for a fixed load.
-- BENCH_MAX_REQUESTS > 0 stops the thread after that many responses.
-- Prints one machine-readable line: BENCH {json}.
local tenants = tonumber(os.getenv("BENCH_TENANTS") or "50")
local delay_ms = tonumber(os.getenv("BENCH_DELAY_MS") or "0")
local max_requests = tonumber(os.getenv("BENCH_MAX_REQUESTS") or "0")
local counter = 0
local responses = 0

math.randomseed(os.time())

request = function()
  counter = counter + 1
  local headers = {["X-Tenant-ID"] = "tenant-" .. (counter % tenants)}
  return wrk.format("GET", "/api/tracks/" .. (counter % 100), headers)
end

if delay_ms > 0 then
  delay = function()
    return math.floor(2 * delay_ms * math.random() + 0.5)
  end
end

if max_requests > 0 then
  response = function(status, headers, body)
    responses = responses + 1
    if responses >= max_requests then
      wrk.thread:stop()
    end
  end
end

done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    'BENCH {"requests": %d, "duration_us": %d, "errors": %d, "non2xx": %d, ' ..
    '"p50_us": %d, "p90_us": %d, "p99_us": %d, "mean_us": %.1f, "max_us": %d}\n',
    summary.requests, summary.duration, e.connect + e.read + e.write + e.timeout, e.status,
    latency:percentile(50), latency:percentile(90), latency:percentile(99), latency.mean, latency.max))
end

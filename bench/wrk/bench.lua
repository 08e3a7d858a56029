-- Bounded wrk scenario, the same script as the peer harness (../shared/peers/django-helpdesk/wrk),
-- so that QLoop and the peer are loaded the same way. Configured through environment variables:
--   BENCH_METHOD   GET (default) or POST
--   BENCH_PATH     request path; "{id}" is replaced by a random int in [1, BENCH_MAX_ID]
--   BENCH_MAX_ID   upper bound for {id}
--   BENCH_BODY     urlencoded POST body; "{n}" is replaced by a per-request counter
--   BENCH_COOKIE   Cookie header (sessionid + csrftoken)
--   BENCH_MAX_REQ  stop each thread after this many responses (count bound; -d is the time bound)
--   BENCH_EXPECT   the only status counted as success (200 for pages, 302 for the form POST)
--   BENCH_PATHS    (QLoop's addition) a file of paths, one per line: each request takes one at
--                  random instead of BENCH_PATH, as the peer's "{id}" takes a random ticket
-- done() prints one JSON line prefixed with "RESULT " (latencies in microseconds).

local method = os.getenv("BENCH_METHOD") or "GET"
local path_t = os.getenv("BENCH_PATH") or "/"
local max_id = tonumber(os.getenv("BENCH_MAX_ID") or "1")
local body_t = os.getenv("BENCH_BODY") or ""
local cookie = os.getenv("BENCH_COOKIE") or ""
local max_req = tonumber(os.getenv("BENCH_MAX_REQ") or "100000")
local expect = tonumber(os.getenv("BENCH_EXPECT") or "200")

local counter = 0
local responses = 0
bad = 0 -- global: read back per thread in done() via thread:get("bad")

local threads = {}
local thread_no = 0
function setup(thread)
  thread_no = thread_no + 1
  thread:set("thread_no", thread_no)
  table.insert(threads, thread)
end

local paths = {}
function init(args)
  math.randomseed(os.time() * 100 + (thread_no or 0))
  local file = os.getenv("BENCH_PATHS")
  if file and file ~= "" then
    for line in io.lines(file) do
      if line ~= "" then table.insert(paths, line) end
    end
  end
end

function request()
  counter = counter + 1
  local p = path_t:gsub("{id}", tostring(math.random(1, max_id)))
  if #paths > 0 then p = paths[math.random(1, #paths)] end
  local headers = { ["Cookie"] = cookie }
  if method == "POST" then
    headers["Content-Type"] = "application/x-www-form-urlencoded"
    local b = body_t:gsub("{n}", tostring(counter))
    return wrk.format("POST", p, headers, b)
  end
  return wrk.format("GET", p, headers)
end

function response(status, headers, body)
  responses = responses + 1
  -- anything but the expected status (e.g. a 302 to the login page) is a failure
  if status ~= expect then
    bad = bad + 1
  end
  if responses >= max_req then
    wrk.thread:stop()
  end
end

function done(summary, latency, requests)
  local bad_total = 0
  for _, t in ipairs(threads) do
    bad_total = bad_total + (t:get("bad") or 0)
  end
  local e = summary.errors
  io.write(string.format(
    'RESULT {"requests": %d, "duration_us": %d, "rps": %.2f, "p50_us": %d, "p95_us": %d, ' ..
    '"p99_us": %d, "max_us": %d, "mean_us": %.0f, "bad_status": %d, "err_connect": %d, ' ..
    '"err_read": %d, "err_write": %d, "err_timeout": %d, "err_status": %d, "bytes_per_resp": %.0f}\n',
    summary.requests, summary.duration, summary.requests / (summary.duration / 1e6),
    latency:percentile(50), latency:percentile(95), latency:percentile(99), latency.max,
    latency.mean, bad_total, e.connect, e.read, e.write, e.timeout, e.status,
    summary.bytes / math.max(1, summary.requests)))
end

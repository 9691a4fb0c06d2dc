-- wrk script: POST a chat completion body with an Authorization header, print a JSON summary.
--
--   wrk -t1 -c16 -d4s -s bench/wrk_post.lua http://127.0.0.1:18000/v1/chat/completions \
--       -- BODY_FILE [API_KEY]
--
-- BODY_FILE (or $WRK_BODY_FILE) holds the JSON request body; API_KEY (or $WRK_API_KEY, else
-- $TOKENWISE_BENCH_KEY) is sent as "Authorization: Bearer <key>"; without any key no
-- Authorization header is sent. The request is built once and is static, so wrk does not
-- call into Lua per request. The last line of output is
--   BENCH_JSON {"requests":..., "duration_us":..., "p50_us":..., "p99_us":..., ...}
-- with latencies in microseconds and errors split as wrk counts them (status = HTTP >= 400).

local function read_file(path)
  local handle = io.open(path, "rb")
  if handle == nil then
    error("wrk_post.lua: cannot read body file " .. tostring(path))
  end
  local data = handle:read("*a")
  handle:close()
  return data
end

function init(args)
  local body_path = args[1] or os.getenv("WRK_BODY_FILE")
  if body_path == nil or body_path == "" then
    error("wrk_post.lua: pass the body file after -- or set WRK_BODY_FILE")
  end
  local key = args[2] or os.getenv("WRK_API_KEY") or os.getenv("TOKENWISE_BENCH_KEY")
  wrk.method = "POST"
  wrk.body = read_file(body_path)
  wrk.headers["Content-Type"] = "application/json"
  if key ~= nil and key ~= "" then
    wrk.headers["Authorization"] = "Bearer " .. key
  end
end

function done(summary, latency, requests)
  local e = summary.errors
  local failed = e.connect + e.read + e.write + e.status + e.timeout
  io.write(string.format(
    'BENCH_JSON {"requests":%d,"duration_us":%d,"errors":%d,"errors_connect":%d,'
      .. '"errors_read":%d,"errors_write":%d,"errors_status":%d,"errors_timeout":%d,'
      .. '"p50_us":%d,"p99_us":%d,"mean_us":%.1f,"max_us":%d}\n',
    summary.requests, summary.duration, failed, e.connect, e.read, e.write, e.status,
    e.timeout, latency:percentile(50), latency:percentile(99), latency.mean, latency.max))
end

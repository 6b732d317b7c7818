-- wrk script for the Gatehouse benchmark.
-- env: BODY_FILE  the request body (JSON) to POST
--      HEADERS    extra headers, "name: value" separated by "|"
--      RATE       if > 0, a fixed offered rate (requests/s): each free connection takes the next
--                 slot of one global 1/RATE schedule (delay() hook, LuaJIT ffi clock_gettime);
--                 wrk then times each request from the moment it is actually sent.
-- At the end it prints one line "BENCHJSON {...}" with counts and latency percentiles in µs.
local ffi = require("ffi")
ffi.cdef[[
typedef struct { long tv_sec; long tv_nsec; } bench_timespec;
int clock_gettime(int clk_id, bench_timespec *tp);
]]
local ts = ffi.new("bench_timespec")
local function now_ms()
  ffi.C.clock_gettime(1, ts) -- CLOCK_MONOTONIC
  return tonumber(ts.tv_sec) * 1000 + tonumber(ts.tv_nsec) / 1e6
end

local f = assert(io.open(os.getenv("BODY_FILE"), "rb"))
local body = f:read("*a")
f:close()

wrk.method = "POST"
wrk.body = body
wrk.headers["Content-Type"] = "application/json"
local hs = os.getenv("HEADERS") or ""
for pair in string.gmatch(hs, "[^|]+") do
  local k, v = string.match(pair, "^%s*([^:]+):%s*(.-)%s*$")
  if k then wrk.headers[k] = v end
end

local rate = tonumber(os.getenv("RATE") or "0") or 0
local interval = rate > 0 and (1000 / rate) or 0
local next_slot = nil

if rate > 0 then
  function delay()
    local t = now_ms()
    if next_slot == nil then next_slot = t end
    local slot = next_slot
    if slot < t - 50 then slot = t end -- far behind (saturated): do not burst to catch up
    next_slot = slot + interval
    local d = slot - t
    if d < 0 then d = 0 end
    return math.floor(d + 0.5)
  end
end

function done(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    'BENCHJSON {"requests":%d,"duration_us":%d,"bytes":%d,"err_connect":%d,"err_read":%d,"err_write":%d,"err_status":%d,"err_timeout":%d,"p50":%d,"p90":%d,"p99":%d,"p999":%d,"max":%d,"mean":%.1f}\n',
    summary.requests, summary.duration, summary.bytes, e.connect, e.read, e.write, e.status, e.timeout,
    latency:percentile(50), latency:percentile(90), latency:percentile(99), latency:percentile(99.9),
    latency.max, latency.mean))
end

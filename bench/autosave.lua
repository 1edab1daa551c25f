-- wrk script for bench/autosave.py: one candidate per wrk thread, one connection each.
--
--   BENCH_WRK_PLAN=plan.lua BENCH_WRK_OUT=out.json \
--     wrk -t50 -c50 -d15s --timeout 10s -s bench/autosave.lua http://127.0.0.1:PORT
--
-- plan.lua (written by bench/autosave.py) returns one entry per thread:
--   {headers = {...}, paths = {"/api/attempts/7/answers/1", ...}, bodies = {"{...}", ...}}
-- Thread N plays entry N: it sends its requests in a loop, one after the other (a
-- thread has one connection, so one candidate never has two saves in flight), and
-- keeps the "saved_at" of every 200 answer, the receipt bench/autosave.py looks up
-- in answer_events afterwards. done() writes the totals, the latency percentiles,
-- a count per status code and the receipts to out.json.

local threads = {}
local created = 0

function setup(thread)
  created = created + 1
  thread:set("index", created)
  table.insert(threads, thread)
end

function init(args)
  local plan = dofile(os.getenv("BENCH_WRK_PLAN"))
  local mine = plan[index]
  prepared = {}
  for i, body in ipairs(mine.bodies) do
    prepared[i] = wrk.format("POST", mine.paths[i], mine.headers, body)
  end
  sent = 0
  acks = {}
  statuses = {}
end

function request()
  local next_request = prepared[sent % #prepared + 1]
  sent = sent + 1
  return next_request
end

function response(status, headers, body)
  statuses[status] = (statuses[status] or 0) + 1
  if status == 200 then
    local at = string.match(body, '"saved_at":%s*"([^"]+)"')
    if at then
      acks[#acks + 1] = at
    end
  end
end

function done(summary, latency, requests)
  local out = assert(io.open(os.getenv("BENCH_WRK_OUT"), "w"))
  local errors = summary.errors
  out:write(string.format(
    '{"duration_us": %d, "requests": %d, "bytes": %d, ' ..
    '"errors": {"connect": %d, "read": %d, "write": %d, "status": %d, "timeout": %d}, ',
    summary.duration, summary.requests, summary.bytes,
    errors.connect, errors.read, errors.write, errors.status, errors.timeout))
  out:write(string.format(
    '"latency_us": {"p50": %d, "p90": %d, "p95": %d, "p99": %d, "max": %d, "mean": %.1f}, ',
    latency:percentile(50), latency:percentile(90), latency:percentile(95),
    latency:percentile(99), latency.max, latency.mean))
  local counts = {}
  local receipts = {}
  for _, thread in ipairs(threads) do
    for status, n in pairs(thread:get("statuses")) do
      counts[status] = (counts[status] or 0) + n
    end
    local index = thread:get("index")
    for _, at in ipairs(thread:get("acks")) do
      receipts[#receipts + 1] = string.format('[%d, "%s"]', index, at)
    end
  end
  local parts = {}
  for status, n in pairs(counts) do
    parts[#parts + 1] = string.format('"%d": %d', status, n)
  end
  out:write('"statuses": {' .. table.concat(parts, ", ") .. '}, ')
  out:write('"receipts": [' .. table.concat(receipts, ", ") .. ']}\n')
  out:close()
end

-- dlq_sweep: claims the DLQ entries no one has been told about yet, for DLQ alerts.
-- Each returned entry is marked on its job record (dlq_notified = its dlq_at) in this same script,
-- so concurrent sweeps never return the same entry twice; a replayed job that is dead-lettered
-- again has a new dlq_at and is reported again.
--
-- Per queue a watermark (the highest DLQ score seen) bounds the scan: entries above it are new;
-- entries in the `lookback` window below it are re-checked, because another writer's clock may lag
-- (a dead-letter stamped slightly in the past after a sweep already moved on). The first sweep of
-- a queue starts at now - lookback: older entries predate the sweeper and are not alerted on.
--
-- KEYS: none (keys are built from the prefix)
-- ARGV[1]  key prefix
-- ARGV[2]  now (ms)
-- ARGV[3]  lookback window in ms
-- ARGV[4]  most entries to return per queue in this run
-- ARGV[5+] queue names
-- Returns JSON: {entries=[{id, queue, dlq_at, reason, attempts, error}] ({} when none), more=bool}
--   error is {name, message, code} (no stack); more=true when a queue had more new entries than the limit.
-- @include keys
-- @include job
local now, lookback, limit = tonumber(ARGV[2]), tonumber(ARGV[3]), tonumber(ARGV[4])
local out, more = {}, false
local FIELDS = { 'status', 'dlq_at', 'dlq_notified', 'dlq_reason', 'attempts', 'error' }

local function brief_error(raw)
  if not raw or raw == '' then return { name = 'Error', message = '' } end
  local ok, e = pcall(cjson.decode, raw)
  if not ok or type(e) ~= 'table' then return { name = 'Error', message = string.sub(raw, 1, 1000) } end
  return { name = e.name or 'Error', message = string.sub(tostring(e.message or ''), 1, 1000), code = e.code }
end

-- Marks and reports job `id` if it is dead-lettered and not yet reported; returns 1 if reported.
local function claim(q, id)
  local j = load_job(id, FIELDS)
  if j.status ~= 'failed' or not j.dlq_at or j.dlq_at == '' or j.dlq_notified == j.dlq_at then return 0 end
  redis.call('HSET', k_job(id), 'dlq_notified', j.dlq_at)
  out[#out + 1] = { id = id, queue = q, dlq_at = tonumber(j.dlq_at), reason = j.dlq_reason or '',
    attempts = num(j.attempts, 0), error = brief_error(j.error) }
  return 1
end

for p = 5, #ARGV do
  local q = ARGV[p]
  local stored = tonumber(redis.call('GET', k_dlq_seen(q)) or '')
  local mark = stored or (now - lookback)
  local budget = limit
  -- the look-back band (scores in [now - lookback, mark]): only its newest `limit` entries are
  -- re-checked, and only while the mark itself is that recent, so an idle queue costs no scan
  local floor = math.max(mark - lookback, now - lookback)
  if stored and mark >= floor then
    local band = redis.call('ZREVRANGEBYSCORE', k_dlq(q), mark, floor, 'LIMIT', 0, limit)
    for i = #band, 1, -1 do
      if budget <= 0 then break end
      budget = budget - claim(q, band[i])
    end
  end
  local fresh = redis.call('ZRANGEBYSCORE', k_dlq(q), '(' .. mark, '+inf', 'WITHSCORES', 'LIMIT', 0, budget + 1)
  local high = mark
  for i = 1, #fresh, 2 do
    if budget <= 0 then more = true; break end
    budget = budget - claim(q, fresh[i])
    high = math.max(high, tonumber(fresh[i + 1]))
  end
  if high ~= stored then redis.call('SET', k_dlq_seen(q), high) end
end
return cjson.encode({ entries = out, more = more })

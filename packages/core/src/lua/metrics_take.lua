-- metrics_take: moves what happened since the last take into the metrics outbox, under a lease.
-- Per queue: the enqueued/failed counters' growth since the values recorded in metrics:last (which
-- are then updated), and the run times in {q}:durations (drained) as count/sum/min/max. The outbox
-- accumulates until a publisher settles it after a successful send (metrics_settle), so a failed
-- send loses nothing and two publishers never both publish the same counts: while one holds the
-- lease, another gets status "busy". An expired lease (a publisher that crashed) is taken over,
-- together with the counts it had taken.
--
-- KEYS: none (keys are built from the prefix)
-- ARGV[1]  key prefix
-- ARGV[2]  now (ms)
-- ARGV[3]  lease token (unique per publisher run)
-- ARGV[4]  lease length in ms
-- ARGV[5+] queue names
-- Returns JSON: {status="busy"} or {status="taken", outbox=[field, value, ...]}; outbox fields are
--   "<q>:enqueued", "<q>:failed", "<q>:dcount", "<q>:dsum", "<q>:dmin", "<q>:dmax" (absent = 0 / none).
-- @include keys
local now, token, lease_ms = tonumber(ARGV[2]), ARGV[3], tonumber(ARGV[4])
local held = redis.call('HMGET', K_METRICS_OUTBOX, 'token', 'lease_until')
if held[1] and held[1] ~= '' and held[1] ~= token and (tonumber(held[2]) or 0) > now then
  return cjson.encode({ status = 'busy' })
end
redis.call('HSET', K_METRICS_OUTBOX, 'token', token, 'lease_until', now + lease_ms)

for p = 5, #ARGV do
  local q = ARGV[p]
  local c = redis.call('HMGET', k_counters(q), 'enqueued', 'failed')
  local names = { 'enqueued', 'failed' }
  local last = redis.call('HMGET', K_METRICS_LAST, q .. ':enqueued', q .. ':failed')
  for i, name in ipairs(names) do
    local cur, prev = tonumber(c[i]) or 0, tonumber(last[i]) or 0
    local delta = cur - prev
    if delta < 0 then delta = cur end -- the counter was reset (its key deleted): count from zero
    if delta > 0 then redis.call('HINCRBY', K_METRICS_OUTBOX, q .. ':' .. name, delta) end
    if cur ~= prev or not last[i] then redis.call('HSET', K_METRICS_LAST, q .. ':' .. name, cur) end
  end
  local runs = redis.call('LRANGE', k_durations(q), 0, -1)
  if #runs > 0 then
    redis.call('DEL', k_durations(q))
    local sum, lo, hi = 0, nil, nil
    for _, v in ipairs(runs) do
      local d = tonumber(v) or 0
      sum = sum + d
      if not lo or d < lo then lo = d end
      if not hi or d > hi then hi = d end
    end
    local prev = redis.call('HMGET', K_METRICS_OUTBOX, q .. ':dmin', q .. ':dmax')
    if prev[1] then lo = math.min(lo, tonumber(prev[1])) end
    if prev[2] then hi = math.max(hi, tonumber(prev[2])) end
    redis.call('HINCRBY', K_METRICS_OUTBOX, q .. ':dcount', #runs)
    redis.call('HINCRBY', K_METRICS_OUTBOX, q .. ':dsum', sum)
    redis.call('HSET', K_METRICS_OUTBOX, q .. ':dmin', lo, q .. ':dmax', hi)
  end
end
return cjson.encode({ status = 'taken', outbox = redis.call('HGETALL', K_METRICS_OUTBOX) })

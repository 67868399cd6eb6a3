-- enqueue: add one or more jobs; idempotent on the job id.
--
-- KEYS: none (keys are built from the prefix; see includes/keys.lua)
-- ARGV[1]  key prefix
-- ARGV[2]  now (ms)
-- ARGV[3+] one JSON job spec per job: {id, queue, level, priority, type, payload, max_attempts,
--          timeout_ms, ttl_ms, retry, result_ttl_ms, failure_ttl_ms, dlq_ttl_ms, run_at, callback_url, created_at}
-- Returns JSON: [{id, status, created}] in input order. An id that already exists is left untouched
-- and reported with its current status and created=false. Ids repeated within one call are
-- enqueued once.
-- @include keys
-- @include job
local now = tonumber(ARGV[2])
local out = {}
local added = {} -- queue -> jobs created, counted once per queue at the end
for i = 3, #ARGV do
  local s = cjson.decode(ARGV[i])
  local key = k_job(s.id)
  local existing = redis.call('HGET', key, 'status')
  if existing then
    out[#out + 1] = { id = s.id, status = existing, created = false }
  else
    local status, entry, ready_at = 'pending', '', now
    if s.run_at > now then
      status, ready_at = 'scheduled', ''
      redis.call('ZADD', k_delayed(s.queue), s.run_at, s.id)
      redis.call('ZADD', K_TIMERS, 'LT', s.run_at, 'D:' .. s.queue)
    else
      entry = redis.call('XADD', k_ready(s.queue, s.level), '*', 'id', s.id, 't', now)
    end
    redis.call('HSET', key, 'id', s.id, 'queue', s.queue, 'level', s.level, 'priority', s.priority, 'type', s.type,
      'payload', s.payload, 'status', status, 'attempts', 0, 'max_attempts', s.max_attempts, 'timeout_ms', s.timeout_ms,
      'ttl_ms', s.ttl_ms, 'retry', s.retry, 'result_ttl_ms', s.result_ttl_ms, 'failure_ttl_ms', s.failure_ttl_ms,
      'dlq_ttl_ms', s.dlq_ttl_ms, 'created_at', s.created_at, 'enqueued_at', now, 'ready_at', ready_at,
      'run_at', s.run_at, 'entry', entry, 'token', 0, 'callback_url', s.callback_url,
      'history', history_push(false, now, status))
    added[s.queue] = (added[s.queue] or 0) + 1
    out[#out + 1] = { id = s.id, status = status, created = true }
  end
end
for q, n in pairs(added) do redis.call('HINCRBY', k_counters(q), 'enqueued', n) end
return cjson.encode(out)

-- enqueue: add one or more jobs; idempotent on the job id.
--
-- KEYS: none (keys are built from the prefix; see includes/keys.lua)
-- ARGV[1]  key prefix
-- ARGV[2]  now (ms)
-- ARGV[3+] one JSON job spec per job: {id, queue, level, priority, type, payload, max_attempts,
--          timeout_ms, ttl_ms, retry, result_ttl_ms, failure_ttl_ms, dlq_ttl_ms, run_at, callback_url,
--          created_at, depends_on=[ids], fresh}; fresh=true when the engine generated the id (a
--          random UUID: no existing job to look for, which saves a read per job)
-- Returns JSON: [{id, status, created}] in input order. An id that already exists is left untouched
-- and reported with its current status and created=false. Ids repeated within one call are
-- enqueued once. A job with unfinished dependencies is `deferred` until they complete.
-- Or, writing nothing: {error="job_not_found"|"dependency_failed"|"self_dependency", id, status} when a
-- dependency does not exist (nor comes earlier in the call), already failed for good, or is the job itself.
-- @include keys
-- @include job
local now = tonumber(ARGV[2])
local specs = {}
local earlier = {}
for i = 3, #ARGV do
  local s = cjson.decode(ARGV[i])
  specs[#specs + 1] = s
  if #s.depends_on > 0 and (s.fresh or not redis.call('HGET', k_job(s.id), 'status')) then
    for _, p in ipairs(s.depends_on) do
      if p == s.id then return cjson.encode({ error = 'self_dependency', id = p }) end
      if not earlier[p] then
        local st = redis.call('HGET', k_job(p), 'status')
        if not st then return cjson.encode({ error = 'job_not_found', id = p }) end
        if st == 'failed' or st == 'expired' or st == 'cancelled' then
          return cjson.encode({ error = 'dependency_failed', id = p, status = st })
        end
      end
    end
  end
  earlier[s.id] = true
end

local out = {}
local added = {} -- queue -> jobs created, counted once per queue at the end
for _, s in ipairs(specs) do
  local key = k_job(s.id)
  local existing = false
  if not s.fresh then existing = redis.call('HGET', key, 'status') end
  if existing then
    out[#out + 1] = { id = s.id, status = existing, created = false }
  else
    local waiting = 0
    for _, p in ipairs(s.depends_on) do
      local pkey = k_job(p)
      local st = redis.call('HGET', pkey, 'status')
      if st ~= 'completed' then
        waiting = waiting + 1
        local ch = redis.call('HGET', pkey, 'children')
        if ch and ch ~= '' then ch = ch .. ',' .. s.id else ch = s.id end
        redis.call('HSET', pkey, 'children', ch)
      end
    end
    local status, entry, ready_at = 'pending', '', now
    if waiting > 0 then
      status, ready_at = 'deferred', ''
      redis.call('ZADD', k_deferred(s.queue), now, s.id)
    elseif s.run_at > now then
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
      'run_at', s.run_at, 'entry', entry, 'token', 0, 'callback_url', s.callback_url, 'waiting_on', waiting,
      'history', history_push(false, now, status))
    added[s.queue] = (added[s.queue] or 0) + 1
    out[#out + 1] = { id = s.id, status = status, created = true }
  end
end
for q, n in pairs(added) do redis.call('HINCRBY', k_counters(q), 'enqueued', n) end
return cjson.encode(out)

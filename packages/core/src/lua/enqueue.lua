-- enqueue: add one or more jobs; idempotent on the job id.
--
-- KEYS: none (keys are built from the prefix; see includes/keys.lua)
-- ARGV[1]  key prefix
-- ARGV[2]  now (ms)
-- ARGV[3+] the jobs, one after another, each as SPEC_WIDTH positional fields followed by its
--          dependencies: id, fresh, queue, level, priority, type, payload, max_attempts, timeout_ms,
--          ttl_ms, retry, result_ttl_ms, failure_ttl_ms, dlq_ttl_ms, run_at, callback_url,
--          created_at, n_deps, then n_deps job ids. fresh=1 when the engine generated the id (a random
--          UUID: no existing job to look for, which saves a read per job). Positional rather than
--          JSON: decoding a JSON spec cost a quarter of this script's time.
-- Returns a flat array: 'ok', then per job in input order its status, 1 if created or 0 if the id
-- already existed (that job is left untouched), and its queue (the stored one for an existing
-- job). Ids repeated within one call are enqueued once. A job with unfinished dependencies is
-- `deferred` until they complete.
-- Or, writing nothing: 'error', code, id, status ('' when none) with code job_not_found |
-- dependency_failed | self_dependency, when a dependency does not exist (nor comes earlier in the
-- call), already failed for good, or is the job itself.
-- @include keys
local now = tonumber(ARGV[2])
local SPEC_WIDTH = 17

-- Read the specs by position; check every job's dependencies before writing anything.
local specs = {}
local earlier = {}
local i = 3
while i <= #ARGV do
  local s = { id = ARGV[i], fresh = ARGV[i + 1] == '1', queue = ARGV[i + 2], level = ARGV[i + 3], at = i, deps = {} }
  local n_deps = tonumber(ARGV[i + SPEC_WIDTH])
  for d = 1, n_deps do s.deps[d] = ARGV[i + SPEC_WIDTH + d] end
  i = i + SPEC_WIDTH + 1 + n_deps
  specs[#specs + 1] = s
  if n_deps > 0 and (s.fresh or not redis.call('HGET', k_job(s.id), 'status')) then
    for _, p in ipairs(s.deps) do
      if p == s.id then return { 'error', 'self_dependency', p, '' } end
      -- A parent earlier in this call is created by it, unless its id already exists (a caller-chosen
      -- id): then it is the existing job, which must not have failed for good.
      local st = false
      if not earlier[p] or not earlier[p].fresh then st = redis.call('HGET', k_job(p), 'status') end
      if not st and not earlier[p] then return { 'error', 'job_not_found', p, '' } end
      if st == 'failed' or st == 'expired' or st == 'cancelled' then
        return { 'error', 'dependency_failed', p, st }
      end
    end
  end
  if not earlier[s.id] then earlier[s.id] = s end
end

local out = { 'ok' }
local added = {} -- queue -> jobs created, counted once per queue at the end
for _, s in ipairs(specs) do
  local key = k_job(s.id)
  local existing = false
  if not s.fresh then existing = redis.call('HMGET', key, 'status', 'queue') end
  if existing and existing[1] then
    out[#out + 1] = existing[1]
    out[#out + 1] = 0
    out[#out + 1] = existing[2] or s.queue
  else
    local waiting = 0
    for _, p in ipairs(s.deps) do
      local pkey = k_job(p)
      local st = redis.call('HGET', pkey, 'status')
      if st ~= 'completed' then
        waiting = waiting + 1
        local ch = redis.call('HGET', pkey, 'children')
        if ch and ch ~= '' then ch = ch .. ',' .. s.id else ch = s.id end
        redis.call('HSET', pkey, 'children', ch)
      end
    end
    local a = s.at
    local run_at = tonumber(ARGV[a + 14])
    local status, entry, ready_at = 'pending', '', now
    if waiting > 0 then
      status, ready_at = 'deferred', ''
      redis.call('ZADD', k_deferred(s.queue), now, s.id)
    elseif run_at > now then
      status, ready_at = 'scheduled', ''
      redis.call('ZADD', k_delayed(s.queue), run_at, s.id)
      redis.call('ZADD', K_TIMERS, 'LT', run_at, 'D:' .. s.queue)
    else
      entry = redis.call('XADD', k_ready(s.queue, s.level), '*', 'id', s.id, 't', now)
    end
    redis.call('HSET', key, 'id', s.id, 'queue', s.queue, 'level', s.level, 'priority', ARGV[a + 4], 'type', ARGV[a + 5],
      'payload', ARGV[a + 6], 'status', status, 'attempts', 0, 'max_attempts', ARGV[a + 7], 'timeout_ms', ARGV[a + 8],
      'ttl_ms', ARGV[a + 9], 'retry', ARGV[a + 10], 'result_ttl_ms', ARGV[a + 11], 'failure_ttl_ms', ARGV[a + 12],
      'dlq_ttl_ms', ARGV[a + 13], 'created_at', ARGV[a + 16], 'enqueued_at', now, 'ready_at', ready_at,
      'run_at', ARGV[a + 14], 'entry', entry, 'token', 0, 'callback_url', ARGV[a + 15], 'waiting_on', waiting,
      'history', '[{"t":' .. now .. ',"s":"' .. status .. '"}]')
    added[s.queue] = (added[s.queue] or 0) + 1
    out[#out + 1] = status
    out[#out + 1] = 1
    out[#out + 1] = s.queue
  end
end
for q, n in pairs(added) do redis.call('HINCRBY', k_counters(q), 'enqueued', n) end
return out

-- Enqueuing jobs given as positional specs (see enqueue.lua for the layout, the reply and the
-- errors): shared by enqueue and schedule_fire, which enqueues a schedule's occurrence atomically
-- with advancing the schedule.
local SPEC_WIDTH = 17

-- Enqueues the specs in A[first..#A]; returns enqueue.lua's reply table.
local function enqueue_jobs(A, first, now)
  -- Read the specs by position; check every job's dependencies before writing anything.
  local specs = {}
  local earlier = {}
  local i = first
  while i <= #A do
    local s = { id = A[i], fresh = A[i + 1] == '1', queue = A[i + 2], level = A[i + 3], at = i, deps = {} }
    local n_deps = tonumber(A[i + SPEC_WIDTH])
    for d = 1, n_deps do s.deps[d] = A[i + SPEC_WIDTH + d] end
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
      local run_at = tonumber(A[a + 14])
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
      redis.call('HSET', key, 'id', s.id, 'queue', s.queue, 'level', s.level, 'priority', A[a + 4], 'type', A[a + 5],
        'payload', A[a + 6], 'status', status, 'attempts', 0, 'max_attempts', A[a + 7], 'timeout_ms', A[a + 8],
        'ttl_ms', A[a + 9], 'retry', A[a + 10], 'result_ttl_ms', A[a + 11], 'failure_ttl_ms', A[a + 12],
        'dlq_ttl_ms', A[a + 13], 'created_at', A[a + 16], 'enqueued_at', now, 'ready_at', ready_at,
        'run_at', A[a + 14], 'entry', entry, 'token', 0, 'callback_url', A[a + 15], 'waiting_on', waiting,
        'history', '[{"t":' .. now .. ',"s":"' .. status .. '"}]')
      added[s.queue] = (added[s.queue] or 0) + 1
      out[#out + 1] = status
      out[#out + 1] = 1
      out[#out + 1] = s.queue
    end
  end
  for q, n in pairs(added) do redis.call('HINCRBY', k_counters(q), 'enqueued', n) end
  return out
end

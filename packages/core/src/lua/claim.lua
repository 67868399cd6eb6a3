-- claim: lease the next job, in strict priority order, from the streams the claimer may read.
--
-- Before reading, fires up to 10 due timers (expired leases are reclaimed, due delayed jobs are
-- promoted), so claimers make progress even when the scheduled maintenance is late.
-- A stream entry whose job is gone or no longer pending is dropped; a job whose queue TTL passed
-- before its first start is expired instead of delivered.
--
-- KEYS: none (keys are built from the prefix)
-- ARGV[1]  key prefix
-- ARGV[2]  now (ms)
-- ARGV[3]  consumer (worker id)
-- ARGV[4]  lease length in ms (0 = the job's timeout)
-- ARGV[5]  random seed for retry jitter of reclaimed jobs
-- ARGV[6+] pairs: queue, permission level — in the order to try them
-- Returns JSON: {status="claimed", fields=[...CLAIM_FIELDS values], token, lease_until, attempts}
--            or {status="empty", next_timer_at=ms|false}
-- @include keys
-- @include job
-- @include retry
-- @include transitions
local now, consumer, lease_ms = tonumber(ARGV[2]), ARGV[3], tonumber(ARGV[4])
fire_timers(now, 10, ARGV[5])

local CLAIM_FIELDS = { 'id', 'queue', 'level', 'priority', 'type', 'payload', 'status', 'entry', 'attempts',
  'max_attempts', 'timeout_ms', 'ttl_ms', 'token', 'history', 'created_at', 'started_at', 'failure_ttl_ms',
  'callback_url', 'error', 'children' }

local function read_one(stream)
  local res = redis.pcall('XREADGROUP', 'GROUP', GROUP, consumer, 'COUNT', 1, 'STREAMS', stream, '>')
  if type(res) == 'table' and res.err then
    if string.find(res.err, 'NOGROUP', 1, true) then
      redis.call('XGROUP', 'CREATE', stream, GROUP, '0', 'MKSTREAM')
      res = redis.call('XREADGROUP', 'GROUP', GROUP, consumer, 'COUNT', 1, 'STREAMS', stream, '>')
    else
      return redis.error_reply(res.err)
    end
  end
  if not res then return false end
  return res[1][2][1]
end

for p = 6, #ARGV, 2 do
  local q, lvl = ARGV[p], ARGV[p + 1]
  local stream = k_ready(q, lvl)
  for _ = 1, 50 do
    local e = read_one(stream)
    if not e then break end
    local eid, id, ready_at = e[1], e[2][2], tonumber(e[2][4])
    local vals = redis.call('HMGET', k_job(id), unpack(CLAIM_FIELDS))
    local j = {}
    for i, f in ipairs(CLAIM_FIELDS) do j[f] = vals[i] end
    if j.status ~= 'pending' or j.entry ~= eid then
      -- stale entry: its job was cancelled, replaced or removed
      redis.call('XACK', stream, GROUP, eid)
      redis.call('XDEL', stream, eid)
    elseif num(j.ttl_ms, 0) > 0 and num(j.attempts, 0) == 0 and now - ready_at > num(j.ttl_ms, 0) then
      redis.call('XACK', stream, GROUP, eid)
      redis.call('XDEL', stream, eid)
      redis.call('HSET', k_job(id), 'status', 'expired', 'entry', '', 'finished_at', now,
        'history', history_push(j.history, now, 'expired'))
      redis.call('PEXPIRE', k_job(id), num(j.failure_ttl_ms, 604800000))
      redis.call('HINCRBY', k_counters(q), 'expired', 1)
      if j.children then cancel_children(j.children, now, id, 'expired') end
    else
      local token = num(j.token, 0) + 1
      local attempts = num(j.attempts, 0) + 1
      local lease = lease_ms
      if lease <= 0 then lease = num(j.timeout_ms, 3600000) end
      local deadline = now + lease
      redis.call('HSET', k_job(id), 'status', 'active', 'worker', consumer, 'token', token, 'attempts', attempts,
        'lease_ms', lease, 'lease_until', deadline, 'started_at', j.started_at or now, 'last_started_at', now,
        'history', history_push(j.history, now, 'active', { a = attempts, w = consumer }))
      redis.call('ZADD', K_TIMERS, deadline, 'L:' .. id)
      return cjson.encode({ status = 'claimed', fields = vals, token = token, lease_until = deadline,
        attempts = attempts, started_at = j.started_at or now })
    end
  end
end
local nxt = redis.call('ZRANGE', K_TIMERS, 0, 0, 'WITHSCORES')
return cjson.encode({ status = 'empty', next_timer_at = tonumber(nxt[2]) or false })

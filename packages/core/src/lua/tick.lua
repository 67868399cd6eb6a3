-- tick: one bounded pass of maintenance.
--   1. fire due timers: reclaim expired leases (counting the lost attempt), promote due delayed jobs;
--   2. when asked, expire ready jobs whose queue TTL passed before they first started;
--   3. when asked, trim the finished/failed/DLQ indexes and requests:closed to their retention and
--      bound the durations list, and reconcile each consumer group's pending list with the leases
--      (XPENDING IDLE): a leased entry whose lease timer went missing gets it back (so the lease can
--      still be reclaimed), an entry no lease owns (its job gone or moved on) is acked and deleted.
--      Scripts keep the two in step; this is the safety net that makes "never stuck" not depend on
--      that alone.
-- Safe to run concurrently with itself and with claims: each step re-checks the job's state.
--
-- KEYS: none
-- ARGV[1]  key prefix
-- ARGV[2]  now (ms)
-- ARGV[3]  random seed for retry jitter
-- ARGV[4]  most timers to fire in this pass
-- ARGV[5]  "1" to trim indexes in this pass
-- ARGV[6]  "1" to scan ready streams for jobs past their TTL in this pass (claims expire such jobs
--          on their own, so the scan only keeps stats honest and may run less often)
-- ARGV[7]  idle time (ms) past which a pending entry is reconciled
-- ARGV[8]  how long a closed request stays in requests:closed (ms; EngineSettings.requestRetentionMs,
--          which ask also keeps each request record past its expiry)
-- ARGV[9+] groups of 5: queue, ttl ms (0 = none), result TTL ms, failure TTL ms, DLQ retention ms (0 = forever)
-- Returns JSON: {reclaimed, promoted, expired, trimmed, reconciled, more, schedules_due} — more=true when
-- the timer limit was hit; schedules_due=true when a recurring schedule's run has come (the engine
-- then fires it: computing a cron's next run is the engine's work, not the script's).
-- @include keys
-- @include job
-- @include retry
-- @include transitions
-- @include streams
local REQUEST_RETENTION_MS = tonumber(ARGV[8])
local now, limit, trim, scan = tonumber(ARGV[2]), tonumber(ARGV[4]), ARGV[5] == '1', ARGV[6] == '1'
local reclaimed, promoted, fired = fire_timers(now, limit, ARGV[3])
local expired, trimmed, reconciled = 0, 0, 0
if trim then
  trimmed = redis.call('ZREMRANGEBYSCORE', K_REQ_CLOSED, '-inf', now - REQUEST_RETENTION_MS)
end

-- Reconciles up to 100 long-idle pending entries of one ready stream with the leases.
local function reconcile(stream, idle_ms)
  local pend = redis.pcall('XPENDING', stream, GROUP, 'IDLE', idle_ms, '-', '+', 100)
  if type(pend) ~= 'table' or pend.err then return end
  for _, p in ipairs(pend) do
    local eid = p[1]
    local e = redis.call('XRANGE', stream, eid, eid)
    local id = e[1] and e[1][2][2]
    local j = id and load_job(id, { 'status', 'entry', 'lease_until' }) or {}
    if (j.status == 'active' or j.status == 'waiting') and j.entry == eid then
      if not redis.call('ZSCORE', K_TIMERS, 'L:' .. id) then
        redis.call('ZADD', K_TIMERS, num(j.lease_until, now), 'L:' .. id)
        reconciled = reconciled + 1
      end
    else
      redis.call('XACK', stream, GROUP, eid)
      redis.call('XDEL', stream, eid)
      reconciled = reconciled + 1
    end
  end
end

for p = 9, #ARGV, 5 do
  local q, ttl = ARGV[p], tonumber(ARGV[p + 1])
  if scan and ttl > 0 then
    for _, lvl in ipairs(LEVELS) do
      local stream = k_ready(q, lvl)
      if redis.call('XLEN', stream) > 0 then
        local pel, last = group_state(stream)
        local entries = redis.call('XRANGE', stream, '(' .. last, '+', 'COUNT', 200)
        for _, e in ipairs(entries) do
          if now - tonumber(e[2][4]) <= ttl then break end
          local id = e[2][2]
          local j = load_job(id, { 'status', 'entry', 'attempts', 'history', 'failure_ttl_ms', 'children' })
          if j.status == 'pending' and j.entry == e[1] and num(j.attempts, 0) == 0 then
            redis.call('XDEL', stream, e[1])
            redis.call('HSET', k_job(id), 'status', 'expired', 'entry', '', 'finished_at', now,
              'history', history_push(j.history, now, 'expired'))
            redis.call('PEXPIRE', k_job(id), num(j.failure_ttl_ms, 604800000))
            redis.call('HINCRBY', k_counters(q), 'expired', 1)
            if j.children then cancel_children(j.children, now, id, 'expired') end
            expired = expired + 1
          end
        end
      end
    end
  end
  if trim then
    trimmed = trimmed + redis.call('ZREMRANGEBYSCORE', k_done(q), '-inf', now - tonumber(ARGV[p + 2]))
    trimmed = trimmed + redis.call('ZREMRANGEBYSCORE', k_failed(q), '-inf', now - tonumber(ARGV[p + 3]))
    local keep = tonumber(ARGV[p + 4])
    if keep > 0 then trimmed = trimmed + redis.call('ZREMRANGEBYSCORE', k_dlq(q), '-inf', now - keep) end
    redis.call('LTRIM', k_durations(q), -10000, -1)
    for _, lvl in ipairs(LEVELS) do reconcile(k_ready(q, lvl), tonumber(ARGV[7])) end
  end
end
local schedules_due = #redis.call('ZRANGEBYSCORE', K_SCHEDULES_DUE, '-inf', now, 'LIMIT', 0, 1) > 0
return cjson.encode({ reclaimed = reclaimed, promoted = promoted, expired = expired, trimmed = trimmed,
  reconciled = reconciled, more = fired >= limit, schedules_due = schedules_due })

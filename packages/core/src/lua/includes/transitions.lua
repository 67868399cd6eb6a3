-- State transitions shared by several scripts. Each is a sequence of commands inside the calling
-- script, so it is atomic with the rest of that script.
-- @include job
-- @include retry

-- The fields fail_attempt and dead_letter need (load them with load_job).
local FAIL_FIELDS = { 'status', 'queue', 'level', 'entry', 'attempts', 'max_attempts', 'retry', 'history',
  'failure_ttl_ms', 'dlq_ttl_ms', 'worker', 'token', 'lease_until', 'started_at', 'last_started_at', 'children',
  'callback_url', 'open_request_ids' }

-- Appends job `id` to its ready stream; returns the new entry id.
local function push_ready(q, lvl, id, now)
  return redis.call('XADD', k_ready(q, lvl), '*', 'id', id, 't', now)
end

-- A worker request closes (its record's status is set by the caller): it leaves the open set, its
-- expiry timer is dropped and a waiter blocked on its signal list is woken.
local function settle_request(rid, now, status)
  redis.call('ZREM', K_REQ_OPEN, rid)
  redis.call('ZADD', K_REQ_CLOSED, now, rid)
  redis.call('ZREM', K_TIMERS, 'R:' .. rid)
  redis.call('RPUSH', k_req_signal(rid), status)
  redis.call('PEXPIRE', k_req_signal(rid), 3600000)
end

-- The delivery that asked the requests `csv` (the job's open_request_ids) ended before they were
-- answered (cancel, ack, failure, lost lease, release). An answer could no longer reach the worker
-- that asked, so they expire now rather than stay listed and answerable until their deadline. Only
-- the job's request fields are written: its status and history are the caller's.
local function expire_open_requests(id, csv, now)
  for rid in string.gmatch(csv, '[^,]+') do
    if redis.call('HGET', k_req(rid), 'status') == 'open' then
      redis.call('HSET', k_req(rid), 'status', 'expired', 'closed_at', now)
      settle_request(rid, now, 'expired')
    end
  end
  redis.call('HSET', k_job(id), 'open_requests', 0, 'open_request_ids', '')
end

-- Ends the current delivery of a leased job: the entry leaves the consumer's pending list and the
-- stream, its lease timer is dropped and its open requests expire. `j` has the job's queue, level,
-- entry and open_request_ids.
local function end_delivery(id, j, now)
  local stream = k_ready(j.queue, j.level)
  if j.entry and j.entry ~= '' then
    redis.call('XACK', stream, GROUP, j.entry)
    redis.call('XDEL', stream, j.entry)
  end
  redis.call('ZREM', K_TIMERS, 'L:' .. id)
  if j.open_request_ids and j.open_request_ids ~= '' then expire_open_requests(id, j.open_request_ids, now) end
end

-- A job reached an outcome its callback_url is told about ('completed', 'failed', 'dead_lettered'):
-- the callback goes into the outbox in the same script as the transition, so it is sent whichever
-- client finished the job (API, worker, the lease reclaimer) and survives a crash right after.
-- Senders read it with notify/callbacks.ts. Jobs without a callback_url cost nothing here. The
-- outbox is capped at about CALLBACKS_MAX unsent callbacks (notifications off everywhere, or every
-- send failing for long): past that the oldest go, so it cannot grow without bound.
local CALLBACKS_MAX = 100000
local function queue_callback(url, id, outcome, q, attempts, now)
  if url and url ~= '' then
    redis.call('XADD', K_CALLBACKS, 'MAXLEN', '~', CALLBACKS_MAX, '*', 'id', id, 'o', outcome, 'q', q, 'a', attempts,
      'u', url, 't', now)
  end
end

-- Puts job `id` in its queue's delayed set and makes sure the queue's due timer fires by then.
local function schedule(q, id, due)
  redis.call('ZADD', k_delayed(q), due, id)
  redis.call('ZADD', K_TIMERS, 'LT', due, 'D:' .. q)
end

-- A job completed: each job that depends on it has one dependency fewer; those with none left
-- become pending (or scheduled, if their start time is still ahead).
local function release_children(csv, now)
  for cid in string.gmatch(csv or '', '[^,]+') do
    local c = load_job(cid, { 'status', 'queue', 'level', 'waiting_on', 'history', 'run_at' })
    if c.status == 'deferred' then
      local left = num(c.waiting_on, 1) - 1
      if left > 0 then
        redis.call('HSET', k_job(cid), 'waiting_on', left)
      else
        redis.call('ZREM', k_deferred(c.queue), cid)
        local run_at = num(c.run_at, 0)
        if run_at > now then
          schedule(c.queue, cid, run_at)
          redis.call('HSET', k_job(cid), 'status', 'scheduled', 'waiting_on', 0,
            'history', history_push(c.history, now, 'scheduled'))
        else
          local entry = push_ready(c.queue, c.level, cid, now)
          redis.call('HSET', k_job(cid), 'status', 'pending', 'waiting_on', 0, 'entry', entry, 'ready_at', now,
            'history', history_push(c.history, now, 'pending'))
        end
      end
    end
  end
end

-- A job will never complete: the jobs waiting on it (and theirs, transitively; at most 1000) are cancelled.
local function cancel_children(csv, now, parent, parent_status)
  local todo, i = {}, 1
  for cid in string.gmatch(csv or '', '[^,]+') do todo[#todo + 1] = { cid, parent, parent_status } end
  while i <= #todo and i <= 1000 do
    local cid, reason = todo[i][1], 'dependency ' .. todo[i][2] .. ' ' .. todo[i][3]
    i = i + 1
    local c = load_job(cid, { 'status', 'queue', 'children', 'history', 'failure_ttl_ms' })
    if c.status == 'deferred' then
      redis.call('ZREM', k_deferred(c.queue), cid)
      redis.call('HSET', k_job(cid), 'status', 'cancelled', 'cancel_reason', reason, 'finished_at', now,
        'history', history_push(c.history, now, 'cancelled', { r = reason }))
      redis.call('PEXPIRE', k_job(cid), num(c.failure_ttl_ms, 604800000))
      redis.call('HINCRBY', k_counters(c.queue), 'cancelled', 1)
      for g in string.gmatch(c.children or '', '[^,]+') do todo[#todo + 1] = { g, cid, 'cancelled' } end
    end
  end
end

local function dead_letter(id, j, now, reason, err, hist)
  local q = j.queue
  redis.call('HSET', k_job(id), 'status', 'failed', 'error', err, 'dlq_at', now, 'dlq_reason', reason,
    'finished_at', now, 'lease_until', '', 'entry', '', 'next_attempt_at', '', 'history', hist)
  redis.call('ZADD', k_dlq(q), now, id)
  redis.call('ZADD', k_failed(q), now, id)
  redis.call('HINCRBY', k_counters(q), 'failed', 1)
  local ttl = num(j.dlq_ttl_ms, 0)
  if ttl > 0 then redis.call('PEXPIRE', k_job(id), ttl) end
  if j.children then cancel_children(j.children, now, id, 'failed') end
  local outcome = 'dead_lettered'
  if reason == 'non_retryable' then outcome = 'failed' end
  queue_callback(j.callback_url, id, outcome, q, num(j.attempts, 0), now)
end

-- A delivery failed (handler error, or the lease ran out). Retries with backoff while attempts
-- remain and the error is retryable; otherwise dead-letters. Returns {outcome, next_attempt_at}.
local function fail_attempt(id, j, now, err, retryable, jitter, retry_after, reason)
  end_delivery(id, j, now)
  local attempts = num(j.attempts, 0)
  local e = cjson.decode(err)
  local note = { a = attempts, w = j.worker or nil, e = e.message, r = reason }
  if retryable and attempts < num(j.max_attempts, 1) then
    local delay = retry_after
    if delay < 0 then delay = retry_delay(j.retry, attempts, jitter) end
    redis.call('HINCRBY', k_counters(j.queue), 'retried', 1)
    if delay <= 0 then
      local entry = push_ready(j.queue, j.level, id, now)
      redis.call('HSET', k_job(id), 'status', 'pending', 'error', err, 'entry', entry, 'ready_at', now,
        'lease_until', '', 'next_attempt_at', '', 'history', history_push(j.history, now, 'pending', note))
      return { 'pending', now }
    end
    local due = now + delay
    schedule(j.queue, id, due)
    redis.call('HSET', k_job(id), 'status', 'retrying', 'error', err, 'entry', '', 'lease_until', '',
      'next_attempt_at', due, 'history', history_push(j.history, now, 'retrying', note))
    return { 'retrying', due }
  end
  if not retryable then reason = 'non_retryable' elseif reason ~= 'lease_expired' then reason = 'max_attempts' end
  note.r = reason
  dead_letter(id, j, now, reason, err, history_push(j.history, now, 'failed', note))
  return { 'dead_lettered', false }
end

-- Moves due jobs of queue q from its delayed set to its ready streams and re-arms the timer.
local function promote_due(q, now, limit)
  local ids = redis.call('ZRANGEBYSCORE', k_delayed(q), '-inf', now, 'LIMIT', 0, limit)
  for _, id in ipairs(ids) do
    local j = load_job(id, { 'status', 'level', 'history' })
    if j.status == 'scheduled' or j.status == 'retrying' then
      local entry = push_ready(q, j.level, id, now)
      redis.call('HSET', k_job(id), 'status', 'pending', 'entry', entry, 'ready_at', now, 'next_attempt_at', '',
        'history', history_push(j.history, now, 'pending'))
    end
  end
  if #ids > 0 then redis.call('ZREM', k_delayed(q), unpack(ids)) end
  local nxt = redis.call('ZRANGE', k_delayed(q), 0, 0, 'WITHSCORES')
  if nxt[2] then redis.call('ZADD', K_TIMERS, nxt[2], 'D:' .. q) else redis.call('ZREM', K_TIMERS, 'D:' .. q) end
  return #ids
end

local LEASE_EXPIRED = cjson.encode({ name = 'LeaseExpired', code = 'lease_expired',
  message = 'lease expired: the worker stopped heartbeating or died' })

-- A lease timer fired: if the lease really is past its deadline, the attempt is lost.
local function reclaim_lease(id, now, jitter)
  local fields = { unpack(FAIL_FIELDS) }
  local j = load_job(id, fields)
  if (j.status == 'active' or j.status == 'waiting') then
    local deadline = num(j.lease_until, 0)
    if deadline <= now then
      fail_attempt(id, j, now, LEASE_EXPIRED, true, jitter, -1, 'lease_expired')
      return 1
    end
    redis.call('ZADD', K_TIMERS, deadline, 'L:' .. id) -- the timer was stale: re-arm it
    return 0
  end
  redis.call('ZREM', K_TIMERS, 'L:' .. id)
  return 0
end

-- A worker request is answered or expired: it leaves the open set, its waiter is woken, and its job
-- goes back from waiting to active once no other request of the same delivery is open. A request
-- of an earlier delivery leaves the job alone (ending a delivery expires its requests, so only one
-- asked before open_request_ids was kept can still be open then).
local function close_request(rid, now, status, job_id, token)
  settle_request(rid, now, status)
  local j = load_job(job_id, { 'status', 'open_requests', 'open_request_ids', 'history', 'token' })
  if (j.status == 'waiting' or j.status == 'active') and j.token == token then
    local open = math.max(0, num(j.open_requests, 1) - 1)
    local next_status = j.status
    if open == 0 and j.status == 'waiting' then next_status = 'active' end
    local left = {}
    for other in string.gmatch(j.open_request_ids or '', '[^,]+') do
      if other ~= rid then left[#left + 1] = other end
    end
    redis.call('HSET', k_job(job_id), 'open_requests', open, 'open_request_ids', table.concat(left, ','),
      'status', next_status, 'history', history_push(j.history, now, 'request_' .. status, { r = rid }))
  end
end

-- A request's expiry timer fired: an open request past its deadline expires.
local function expire_request(rid, now)
  local r = redis.call('HMGET', k_req(rid), 'status', 'expires_at', 'job_id', 'token')
  if r[1] == 'open' and num(r[2], 0) <= now then
    redis.call('HSET', k_req(rid), 'status', 'expired', 'closed_at', now)
    close_request(rid, now, 'expired', r[3], r[4])
    return 1
  end
  redis.call('ZREM', K_TIMERS, 'R:' .. rid)
  return 0
end

-- Fires due timers (lease deadlines, delayed-job due times, request expiries), at most `limit`.
-- Returns reclaimed, promoted, fired (fired = limit means more may be due).
local function fire_timers(now, limit, seed)
  local due = redis.call('ZRANGEBYSCORE', K_TIMERS, '-inf', now, 'LIMIT', 0, limit)
  local reclaimed, promoted = 0, 0
  for i, m in ipairs(due) do
    local kind, ref = string.sub(m, 1, 1), string.sub(m, 3)
    if kind == 'L' then
      reclaimed = reclaimed + reclaim_lease(ref, now, jitter_for(seed, i))
    elseif kind == 'R' then
      expire_request(ref, now)
    else
      promoted = promoted + promote_due(ref, now, 1000)
    end
  end
  return reclaimed, promoted, #due
end

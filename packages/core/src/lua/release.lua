-- release: give a leased job back without counting the attempt (e.g. a worker shutting down). Its
-- open requests expire with the delivery (see end_delivery).
--
-- KEYS: none
-- ARGV[1] key prefix
-- ARGV[2] now (ms)
-- ARGV[3] job id
-- ARGV[4] lease token
-- ARGV[5] delay in ms before it may run again (0 = at once)
-- ARGV[6] lease holder the caller must be ('' = any; see holds_lease)
-- Returns JSON: {ok=true, status="pending"|"scheduled"} or {ok=false, code, status}
-- @include keys
-- @include job
-- @include transitions
local now, id, token, delay = tonumber(ARGV[2]), ARGV[3], ARGV[4], tonumber(ARGV[5])
local j = load_job(id, { 'status', 'token', 'queue', 'level', 'entry', 'history', 'attempts', 'worker',
  'open_request_ids' })
if not j.status then return cjson.encode({ ok = false, code = 'job_not_found' }) end
if not holds_lease(j, token, ARGV[6]) then
  return cjson.encode({ ok = false, code = 'lease_lost', status = j.status })
end
end_delivery(id, j, now)
local attempts = math.max(0, num(j.attempts, 1) - 1)
local note = { w = j.worker or nil }
if delay > 0 then
  schedule(j.queue, id, now + delay)
  redis.call('HSET', k_job(id), 'status', 'scheduled', 'attempts', attempts, 'entry', '', 'lease_until', '',
    'next_attempt_at', now + delay, 'history', history_push(j.history, now, 'released', note))
  return cjson.encode({ ok = true, status = 'scheduled' })
end
local entry = push_ready(j.queue, j.level, id, now)
redis.call('HSET', k_job(id), 'status', 'pending', 'attempts', attempts, 'entry', entry, 'ready_at', now,
  'lease_until', '', 'history', history_push(j.history, now, 'released', note))
return cjson.encode({ ok = true, status = 'pending' })

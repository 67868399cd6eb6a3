-- ack: the job succeeded. Stores the result, ends the delivery, keeps the record for its result TTL,
-- and releases the jobs that were waiting for it. Optionally leases the caller's next job in the same
-- call (a busy worker then needs one round trip per job).
--
-- KEYS: none
-- ARGV[1] key prefix
-- ARGV[2] now (ms)
-- ARGV[3] job id
-- ARGV[4] lease token
-- ARGV[5] result JSON
-- ARGV[6] lease holder the caller must be ('' = any; see holds_lease)
-- ARGV[7] next-claim JSON {consumer, lease_ms, count, pairs=[queue, level, ...]} ('' = claim nothing)
-- Returns JSON: {ok=true, duration_ms, queue, attempts, callback_url, next=[claimed jobs as in claim]} or {ok=false, code="lease_lost"|"job_not_found", status}
-- @include keys
-- @include job
-- @include retry
-- @include transitions
-- @include claim_core
local now, id, token = tonumber(ARGV[2]), ARGV[3], ARGV[4]
local j = load_job(id, { 'status', 'token', 'queue', 'level', 'entry', 'history', 'result_ttl_ms', 'last_started_at',
  'attempts', 'worker', 'callback_url', 'children' })
if not j.status then return cjson.encode({ ok = false, code = 'job_not_found' }) end
if not holds_lease(j, token, ARGV[6]) then
  return cjson.encode({ ok = false, code = 'lease_lost', status = j.status })
end
end_delivery(id, j)
local duration = now - num(j.last_started_at, now)
redis.call('HSET', k_job(id), 'status', 'completed', 'result', ARGV[5], 'finished_at', now, 'lease_until', '',
  'entry', '', 'error', '', 'history', history_push(j.history, now, 'completed', { a = num(j.attempts, 0), w = j.worker or nil }))
redis.call('PEXPIRE', k_job(id), num(j.result_ttl_ms, 86400000))
redis.call('ZADD', k_done(j.queue), now, id)
redis.call('RPUSH', k_durations(j.queue), duration)
if j.children then release_children(j.children, now) end
local next_jobs = {}
if ARGV[7] ~= '' then
  local n = cjson.decode(ARGV[7])
  next_jobs = claim_jobs(now, n.consumer, n.lease_ms, n.count, n.pairs)
end
return cjson.encode({ ok = true, duration_ms = duration, queue = j.queue, attempts = num(j.attempts, 0),
  callback_url = j.callback_url or '', next = next_jobs })

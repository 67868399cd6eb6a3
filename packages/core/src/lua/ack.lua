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
-- ARGV[7] next-claim: consumer ('' = claim nothing)
-- ARGV[8] next-claim: lease length in ms (0 = the job's timeout)
-- ARGV[9] next-claim: most jobs to lease
-- ARGV[10+] next-claim: pairs queue, permission level, in claim order
-- Returns a flat array: "ok", duration_ms, queue, attempts, callback_url, n, then the n jobs leased for
--         the caller as in claim (token, lease_until, attempts, CLAIM_FIELDS values)
--      or JSON {ok=false, code="lease_lost"|"job_not_found", status}
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
  local pairs_list = {}
  for i = 10, #ARGV do pairs_list[#pairs_list + 1] = ARGV[i] end
  next_jobs = claim_jobs(now, ARGV[7], tonumber(ARGV[8]), tonumber(ARGV[9]), pairs_list)
end
return append_claimed({ 'ok', duration, j.queue, num(j.attempts, 0), j.callback_url or '', #next_jobs }, next_jobs)

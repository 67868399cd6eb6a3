-- fail: the job's handler failed. Retries with backoff or dead-letters (see fail_attempt).
--
-- KEYS: none
-- ARGV[1] key prefix
-- ARGV[2] now (ms)
-- ARGV[3] job id
-- ARGV[4] lease token
-- ARGV[5] error JSON {name, message, stack}
-- ARGV[6] "1" if retryable, "0" if not
-- ARGV[7] jitter in [-1, 1]
-- ARGV[8] retry-after in ms (-1 = use the job's retry policy)
-- ARGV[9] lease holder the caller must be ('' = any; see holds_lease)
-- Returns JSON: {ok=true, outcome="pending"|"retrying"|"dead_lettered", next_attempt_at, queue, attempts, callback_url}
--            or {ok=false, code="lease_lost"|"job_not_found", status}
-- @include keys
-- @include job
-- @include retry
-- @include transitions
local now, id, token = tonumber(ARGV[2]), ARGV[3], ARGV[4]
local j = load_job(id, FAIL_FIELDS)
if not j.status then return cjson.encode({ ok = false, code = 'job_not_found' }) end
if not holds_lease(j, token, ARGV[9]) then
  return cjson.encode({ ok = false, code = 'lease_lost', status = j.status })
end
local r = fail_attempt(id, j, now, ARGV[5], ARGV[6] == '1', tonumber(ARGV[7]), tonumber(ARGV[8]), 'error')
return cjson.encode({ ok = true, outcome = r[1], next_attempt_at = r[2], queue = j.queue, attempts = num(j.attempts, 0),
  callback_url = j.callback_url or '' })

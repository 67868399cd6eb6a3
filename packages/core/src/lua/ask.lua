-- ask: a worker holding a job's lease asks its controller a question. The job becomes `waiting`
-- (still leased: the worker keeps heartbeating) until the request is answered or expires. The job
-- lists its open requests (open_request_ids) so that ending the delivery expires them.
--
-- KEYS: none
-- ARGV[1] key prefix
-- ARGV[2] now (ms)
-- ARGV[3] job id
-- ARGV[4] lease token
-- ARGV[5] request id
-- ARGV[6] request JSON (a WorkerRequestMessage)
-- ARGV[7] expires at (ms)
-- ARGV[8] how long the record is kept after it expires (ms)
-- ARGV[9] worker id
-- ARGV[10] lease holder the caller must be ('' = any; see holds_lease)
-- Returns JSON: {ok=true} or {ok=false, code="lease_lost"|"job_not_found"|"duplicate_request", status}
-- @include keys
-- @include job
local now, id, token, rid, expires = tonumber(ARGV[2]), ARGV[3], ARGV[4], ARGV[5], tonumber(ARGV[7])
local j = load_job(id, { 'status', 'token', 'open_requests', 'open_request_ids', 'history', 'worker' })
if not j.status then return cjson.encode({ ok = false, code = 'job_not_found' }) end
if not holds_lease(j, token, ARGV[10]) then
  return cjson.encode({ ok = false, code = 'lease_lost', status = j.status })
end
if redis.call('EXISTS', k_req(rid)) == 1 then
  return cjson.encode({ ok = false, code = 'duplicate_request', status = j.status })
end
redis.call('HSET', k_req(rid), 'id', rid, 'request', ARGV[6], 'status', 'open', 'job_id', id, 'token', token, 'worker_id', ARGV[9],
  'created_at', now, 'expires_at', expires)
redis.call('PEXPIRE', k_req(rid), expires - now + tonumber(ARGV[8]))
redis.call('ZADD', K_REQ_OPEN, expires, rid)
redis.call('ZADD', K_TIMERS, expires, 'R:' .. rid)
local ids = rid
if j.open_request_ids and j.open_request_ids ~= '' then ids = j.open_request_ids .. ',' .. rid end
redis.call('HSET', k_job(id), 'status', 'waiting', 'open_requests', num(j.open_requests, 0) + 1,
  'open_request_ids', ids, 'history', history_push(j.history, now, 'waiting', { r = rid }))
return cjson.encode({ ok = true })

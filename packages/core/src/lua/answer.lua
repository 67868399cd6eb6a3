-- answer: a controller answers an open worker request; the asking worker is woken.
--
-- KEYS: none
-- ARGV[1] key prefix
-- ARGV[2] now (ms)
-- ARGV[3] request id
-- ARGV[4] response JSON (a ControllerResponseMessage)
-- Returns JSON: {ok=true, request} or {ok=false, code="request_not_found"|"request_expired"|"already_answered"}
-- @include keys
-- @include job
-- @include retry
-- @include transitions
local now, rid = tonumber(ARGV[2]), ARGV[3]
local r = redis.call('HMGET', k_req(rid), 'status', 'expires_at', 'job_id', 'request', 'token')
if not r[1] then return cjson.encode({ ok = false, code = 'request_not_found' }) end
if r[1] == 'answered' then return cjson.encode({ ok = false, code = 'already_answered' }) end
if r[1] == 'expired' then return cjson.encode({ ok = false, code = 'request_expired' }) end
if num(r[2], 0) <= now then
  expire_request(rid, now)
  return cjson.encode({ ok = false, code = 'request_expired' })
end
redis.call('HSET', k_req(rid), 'status', 'answered', 'response', ARGV[4], 'closed_at', now)
close_request(rid, now, 'answered', r[3], r[5])
return cjson.encode({ ok = true, request = r[4] })

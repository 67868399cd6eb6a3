-- heartbeat: extend the lease of a job the caller holds, optionally recording progress.
--
-- KEYS: none
-- ARGV[1] key prefix
-- ARGV[2] now (ms)
-- ARGV[3] job id
-- ARGV[4] lease token
-- ARGV[5] extension in ms (0 = the lease length given at claim)
-- ARGV[6] progress JSON ('' = unchanged)
-- ARGV[7] lease holder the caller must be ('' = any; see holds_lease)
-- Returns JSON: {ok=true, lease_until} or {ok=false, code="lease_lost"|"job_not_found", status}
-- @include keys
-- @include job
local now, id, token, ext = tonumber(ARGV[2]), ARGV[3], ARGV[4], tonumber(ARGV[5])
local j = load_job(id, { 'status', 'token', 'lease_ms', 'worker' })
if not j.status then return cjson.encode({ ok = false, code = 'job_not_found' }) end
if not holds_lease(j, token, ARGV[7]) then
  return cjson.encode({ ok = false, code = 'lease_lost', status = j.status })
end
if ext <= 0 then ext = num(j.lease_ms, 60000) end
local deadline = now + ext
if ARGV[6] ~= '' then
  redis.call('HSET', k_job(id), 'lease_until', deadline, 'heartbeat_at', now, 'progress', ARGV[6])
else
  redis.call('HSET', k_job(id), 'lease_until', deadline, 'heartbeat_at', now)
end
redis.call('ZADD', K_TIMERS, deadline, 'L:' .. id)
return cjson.encode({ ok = true, lease_until = deadline })

-- worker_control: suspend or resume a registered worker.
--
-- Sets the record's `suspended` flag (the worker learns it at its next beat or wake-up: a
-- suspended worker finishes what it holds and claims nothing new) and appends to the worker's
-- control stream, which its blocking wait includes, so an idle worker learns it at once.
--
-- KEYS: none
-- ARGV[1] key prefix
-- ARGV[2] now (ms)
-- ARGV[3] worker id
-- ARGV[4] "suspend" or "resume"
-- ARGV[5] TTL of the control stream in ms
-- Returns JSON: {ok=true, suspended=true|false} or {ok=false, code="worker_not_found"}
-- @include keys
local now, id, action, ttl = tonumber(ARGV[2]), ARGV[3], ARGV[4], tonumber(ARGV[5])
local key = k_worker(id)
if redis.call('EXISTS', key) == 0 then return cjson.encode({ ok = false, code = 'worker_not_found' }) end
local suspended = action == 'suspend'
if suspended then
  redis.call('HSET', key, 'suspended', '1', 'state', 'suspended')
else
  redis.call('HSET', key, 'suspended', '0')
end
local control = k_worker_control(id)
redis.call('XADD', control, 'MAXLEN', '10', '*', 'a', action, 't', now)
redis.call('PEXPIRE', control, ttl)
return cjson.encode({ ok = true, suspended = suspended })

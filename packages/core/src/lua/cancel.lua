-- cancel: stop a job that has not finished. A leased job loses its lease (its worker's next
-- heartbeat or ack gets lease_lost) and its open requests expire (see end_delivery). Jobs that
-- depend on it are cancelled too.
--
-- KEYS: none
-- ARGV[1] key prefix
-- ARGV[2] now (ms)
-- ARGV[3] job id
-- ARGV[4] reason
-- Returns JSON: {ok=true, previous} or {ok=false, code="job_not_found"|"not_cancellable", status}
-- @include keys
-- @include job
-- @include retry
-- @include transitions
local now, id = tonumber(ARGV[2]), ARGV[3]
local j = load_job(id, { 'status', 'queue', 'level', 'entry', 'history', 'failure_ttl_ms', 'children',
  'open_request_ids' })
if not j.status then return cjson.encode({ ok = false, code = 'job_not_found' }) end
local s = j.status
if s == 'pending' then
  -- never delivered: the entry is not in any pending list, deleting it is enough
  redis.call('XDEL', k_ready(j.queue, j.level), j.entry)
elseif s == 'scheduled' or s == 'retrying' then
  redis.call('ZREM', k_delayed(j.queue), id)
elseif s == 'deferred' then
  redis.call('ZREM', k_deferred(j.queue), id)
elseif s == 'active' or s == 'waiting' then
  end_delivery(id, j, now)
else
  return cjson.encode({ ok = false, code = 'not_cancellable', status = s })
end
redis.call('HSET', k_job(id), 'status', 'cancelled', 'entry', '', 'lease_until', '', 'finished_at', now,
  'cancel_reason', ARGV[4], 'history', history_push(j.history, now, 'cancelled', { r = ARGV[4] }))
redis.call('PEXPIRE', k_job(id), num(j.failure_ttl_ms, 604800000))
redis.call('HINCRBY', k_counters(j.queue), 'cancelled', 1)
if j.children then cancel_children(j.children, now, id, 'cancelled') end
return cjson.encode({ ok = true, previous = s })

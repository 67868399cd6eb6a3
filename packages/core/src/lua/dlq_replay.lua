-- dlq_replay: send dead-lettered jobs back to their origin queue with fresh attempts.
-- Idempotent: a job no longer in the DLQ is reported, not enqueued twice.
--
-- KEYS: none
-- ARGV[1]  key prefix
-- ARGV[2]  now (ms)
-- ARGV[3]  replacement payload JSON for every listed job ("" = keep)
-- ARGV[4+] job ids
-- Returns JSON: [{id, outcome="replayed"|"not_in_dlq"|"not_found"}]
-- @include keys
-- @include job
local now = tonumber(ARGV[2])
local out = {}
for i = 4, #ARGV do
  local id = ARGV[i]
  local j = load_job(id, { 'status', 'queue', 'level', 'history', 'replays' })
  if not j.status then
    out[#out + 1] = { id = id, outcome = 'not_found' }
  elseif j.status ~= 'failed' or not redis.call('ZSCORE', k_dlq(j.queue), id) then
    out[#out + 1] = { id = id, outcome = 'not_in_dlq' }
  else
    redis.call('ZREM', k_dlq(j.queue), id)
    redis.call('ZREM', k_failed(j.queue), id) -- no longer a failure: the `failed` stat must not count it
    local entry = redis.call('XADD', k_ready(j.queue, j.level), '*', 'id', id, 't', now)
    redis.call('HSET', k_job(id), 'status', 'pending', 'attempts', 0, 'entry', entry, 'ready_at', now,
      'dlq_at', '', 'dlq_reason', '', 'finished_at', '', 'replays', num(j.replays, 0) + 1,
      'history', history_push(j.history, now, 'pending', { r = 'replayed' }))
    if ARGV[3] ~= '' then redis.call('HSET', k_job(id), 'payload', ARGV[3]) end
    redis.call('PERSIST', k_job(id))
    redis.call('HINCRBY', k_counters(j.queue), 'replayed', 1)
    out[#out + 1] = { id = id, outcome = 'replayed' }
  end
end
return cjson.encode(out)

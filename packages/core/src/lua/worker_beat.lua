-- worker_beat: a worker announces itself (registers on its first beat), in one call per beat.
--
-- Writes the worker's record and refreshes its TTL, moves it up in the workers index, and tells the
-- worker whether it has been suspended (suspendWorker sets that flag; a beat never clears it).
-- Index entries of workers that stopped beating are pruned by the readers (worker_stats), not
-- here: every idle worker beats once a minute, and on Upstash each command is billed.
--
-- KEYS: none (keys are built from the prefix)
-- ARGV[1]  key prefix
-- ARGV[2]  now (ms)
-- ARGV[3]  worker id
-- ARGV[4]  record TTL in ms
-- ARGV[5+] field, value pairs of the record: state, queues, levels, concurrency, active_jobs,
--          jobs_processed, jobs_failed, started_at, host, pid
-- Returns JSON: {suspended=true|false}
-- @include keys
local now, id, ttl = tonumber(ARGV[2]), ARGV[3], tonumber(ARGV[4])
local key = k_worker(id)
local fields = { 'id', id, 'beat_at', now }
for i = 5, #ARGV do fields[#fields + 1] = ARGV[i] end
redis.call('HSET', key, unpack(fields))
redis.call('PEXPIRE', key, ttl)
redis.call('ZADD', K_WORKERS, now, id)
return cjson.encode({ suspended = redis.call('HGET', key, 'suspended') == '1' })

-- schedule_delete: remove a recurring schedule (jobs it already enqueued are left alone).
--
-- KEYS: none (keys are built from the prefix)
-- ARGV[1]  key prefix
-- ARGV[2]  now (ms)
-- ARGV[3]  schedule name
-- Returns 1 when it existed, 0 otherwise.
-- @include keys
redis.call('ZREM', K_SCHEDULES_DUE, ARGV[3])
return redis.call('HDEL', K_SCHEDULES, ARGV[3])

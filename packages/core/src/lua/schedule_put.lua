-- schedule_put: create or replace a recurring schedule.
--
-- KEYS: none (keys are built from the prefix)
-- ARGV[1]  key prefix
-- ARGV[2]  now (ms)
-- ARGV[3]  schedule name
-- ARGV[4]  the schedule as JSON (schedules.ts: cron, job template, created/next/last run)
-- ARGV[5]  its next run (ms)
-- Returns 1 when the schedule is new, 0 when it replaced one of that name.
-- @include keys
local created = redis.call('HSET', K_SCHEDULES, ARGV[3], ARGV[4])
redis.call('ZADD', K_SCHEDULES_DUE, tonumber(ARGV[5]), ARGV[3])
return created

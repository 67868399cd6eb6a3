-- schedule_retry: a schedule's run could not be enqueued (its own problem: a queue removed from
-- the configuration, a record edited by hand); try it again later instead of holding the head of
-- the due list, where it would keep the schedules behind it from firing.
--
-- KEYS: none (keys are built from the prefix)
-- ARGV[1]  key prefix
-- ARGV[2]  now (ms)
-- ARGV[3]  schedule name
-- ARGV[4]  its due time as the caller read it (nothing changes if it moved since)
-- ARGV[5]  when to try again (ms)
-- Returns 1 when moved, 0 when the schedule changed meanwhile.
-- @include keys
local due = redis.call('ZSCORE', K_SCHEDULES_DUE, ARGV[3])
if not due or tonumber(due) ~= tonumber(ARGV[4]) then return 0 end
redis.call('ZADD', K_SCHEDULES_DUE, tonumber(ARGV[5]), ARGV[3])
return 1

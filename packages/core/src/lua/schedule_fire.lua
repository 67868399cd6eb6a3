-- schedule_fire: enqueue one run of a recurring schedule and move the schedule to its next run, in
-- one step: a run is enqueued once (its job id is the schedule name and the run time, so a repeated
-- fire finds the job instead of making another) and the schedule never skips or repeats a run.
--
-- KEYS: none (keys are built from the prefix)
-- ARGV[1]  key prefix
-- ARGV[2]  now (ms)
-- ARGV[3]  schedule name
-- ARGV[4]  the schedule's due time as the caller read it (its next run, or a retry's time)
-- ARGV[5]  the run being fired (ms): the schedule's next run, which names the job
-- ARGV[6]  the schedule's following run (ms), computed by the caller from its cron expression
-- ARGV[7+] the run's job as one positional spec (enqueue.lua's layout)
-- Returns a flat array: 'fired', then enqueue's reply for the job (status, created, queue);
-- or 'stale' when the schedule is gone or its due time moved from ARGV[4] (another firer won);
-- or enqueue's error reply (the schedule is left as it was).
-- @include keys
-- @include enqueue_core
local now, name, expected, run, following = tonumber(ARGV[2]), ARGV[3], tonumber(ARGV[4]), tonumber(ARGV[5]), tonumber(ARGV[6])
local raw = redis.call('HGET', K_SCHEDULES, name)
local due = redis.call('ZSCORE', K_SCHEDULES_DUE, name)
if not raw or not due or tonumber(due) ~= expected then return { 'stale' } end
local r = enqueue_jobs(ARGV, 7, now)
if r[1] ~= 'ok' then return r end
local s = cjson.decode(raw)
s.lastRunAt = run
s.lastJobId = ARGV[7]
s.nextRunAt = following
s.runs = (tonumber(s.runs) or 0) + 1
redis.call('HSET', K_SCHEDULES, name, cjson.encode(s))
redis.call('ZADD', K_SCHEDULES_DUE, following, name)
return { 'fired', r[2], r[3], r[4] }

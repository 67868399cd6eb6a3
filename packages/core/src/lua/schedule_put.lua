-- schedule_put: create or replace a recurring schedule.
--
-- Replacing keeps what belongs to the schedule's past (created time, last run, last job, run count)
-- and a run that is already due but not fired yet (it fires with the new job); otherwise the next
-- run is the one the caller computed from the new cron expression.
--
-- KEYS: none (keys are built from the prefix)
-- ARGV[1]  key prefix
-- ARGV[2]  now (ms)
-- ARGV[3]  schedule name
-- ARGV[4]  the new schedule as JSON: {name, cron, job (a JSON string), createdAt, nextRunAt, ...}
-- ARGV[5]  its next run (ms) from the new cron expression
-- Returns a flat array: 1 when the schedule is new (0 when it replaced one), then the stored JSON.
-- @include keys
local now, name, next_run = tonumber(ARGV[2]), ARGV[3], tonumber(ARGV[5])
local s = cjson.decode(ARGV[4])
local created = 1
local old_raw = redis.call('HGET', K_SCHEDULES, name)
if old_raw then
  created = 0
  local ok, old = pcall(cjson.decode, old_raw)
  if ok and type(old) == 'table' then
    s.createdAt = old.createdAt or s.createdAt
    s.lastRunAt = old.lastRunAt
    s.lastJobId = old.lastJobId
    s.runs = old.runs
  end
  local due = tonumber(redis.call('ZSCORE', K_SCHEDULES_DUE, name))
  if due and due <= now then next_run = due end
end
s.nextRunAt = next_run
local json = cjson.encode(s)
redis.call('HSET', K_SCHEDULES, name, json)
redis.call('ZADD', K_SCHEDULES_DUE, next_run, name)
return { created, json }

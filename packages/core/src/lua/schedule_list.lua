-- schedule_list: every recurring schedule, the due ones, or one by name.
--
-- KEYS: none (keys are built from the prefix)
-- ARGV[1]  key prefix
-- ARGV[2]  now (ms)
-- ARGV[3]  "due" for the schedules whose next run has come (at most ARGV[4]), "all" for every one,
--          "one" for the schedule named ARGV[4]
-- ARGV[4]  most schedules to return ("due"), or the name ("one")
-- Returns a flat array: name, schedule JSON, next run ms, ... ('' JSON for an index entry without a
-- schedule, which the caller drops).
-- @include keys
local names
if ARGV[3] == 'due' then
  names = redis.call('ZRANGEBYSCORE', K_SCHEDULES_DUE, '-inf', ARGV[2], 'WITHSCORES', 'LIMIT', 0, tonumber(ARGV[4]))
elseif ARGV[3] == 'one' then
  local due = redis.call('ZSCORE', K_SCHEDULES_DUE, ARGV[4])
  names = due and { ARGV[4], due } or {}
else
  names = redis.call('ZRANGE', K_SCHEDULES_DUE, 0, -1, 'WITHSCORES')
end
local out = {}
for i = 1, #names, 2 do
  out[#out + 1] = names[i]
  out[#out + 1] = redis.call('HGET', K_SCHEDULES, names[i]) or ''
  out[#out + 1] = names[i + 1]
end
return out

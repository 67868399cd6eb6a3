-- schedule_list: every recurring schedule, or the due ones.
--
-- KEYS: none (keys are built from the prefix)
-- ARGV[1]  key prefix
-- ARGV[2]  now (ms)
-- ARGV[3]  "due" for the schedules whose next run has come (at most ARGV[4]), "all" for every one
-- ARGV[4]  most schedules to return when "due"
-- Returns a flat array: name, schedule JSON, next run ms, ... ('' JSON for an index entry without a
-- schedule, which the caller drops).
-- @include keys
local names
if ARGV[3] == 'due' then
  names = redis.call('ZRANGEBYSCORE', K_SCHEDULES_DUE, '-inf', ARGV[2], 'WITHSCORES', 'LIMIT', 0, tonumber(ARGV[4]))
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

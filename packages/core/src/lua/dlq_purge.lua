-- dlq_purge: delete dead-lettered jobs for good (their records and DLQ entries).
--
-- KEYS: none
-- ARGV[1]  key prefix
-- ARGV[2]  now (ms)
-- ARGV[3]  mode: "ids" (ARGV[4+] are job ids) or "queue" (ARGV[4] = queue, ARGV[5] = most to purge)
-- Returns JSON: {purged=[ids], remaining=n} — remaining is the queue's DLQ depth after a "queue" purge.
-- @include keys
local mode = ARGV[3]
local purged = {}
local function purge(q, id)
  if redis.call('ZREM', k_dlq(q), id) == 1 then
    if redis.call('HGET', k_job(id), 'status') == 'failed' then redis.call('DEL', k_job(id)) end
    purged[#purged + 1] = id
  end
end
if mode == 'queue' then
  local q = ARGV[4]
  for _, id in ipairs(redis.call('ZRANGE', k_dlq(q), 0, tonumber(ARGV[5]) - 1)) do purge(q, id) end
  return cjson.encode({ purged = purged, remaining = redis.call('ZCARD', k_dlq(q)) })
end
for i = 4, #ARGV do
  local q = redis.call('HGET', k_job(ARGV[i]), 'queue')
  if q then purge(q, ARGV[i]) end
end
return cjson.encode({ purged = purged, remaining = 0 })

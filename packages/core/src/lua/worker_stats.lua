-- worker_stats: the registered workers' records, from the workers index (no key scan).
--
-- Prunes index entries whose last beat is older than the record TTL, and entries whose record is
-- gone (deregistered or expired), then returns the remaining records.
--
-- KEYS: none
-- ARGV[1] key prefix
-- ARGV[2] now (ms)
-- ARGV[3] record TTL in ms
-- ARGV[4] most workers to return
-- Returns JSON: {workers=[[field, value, ...] per worker, ordered by id], more=true|false}
-- @include keys
local now, ttl, limit = tonumber(ARGV[2]), tonumber(ARGV[3]), tonumber(ARGV[4])
redis.call('ZREMRANGEBYSCORE', K_WORKERS, '-inf', now - ttl)
local ids = redis.call('ZRANGE', K_WORKERS, 0, -1)
table.sort(ids)
local out, gone = {}, {}
for _, id in ipairs(ids) do
  if #out >= limit then break end
  local rec = redis.call('HGETALL', k_worker(id))
  if #rec == 0 then gone[#gone + 1] = id else out[#out + 1] = rec end
end
if #gone > 0 then redis.call('ZREM', K_WORKERS, unpack(gone)) end
return cjson.encode({ workers = out, more = #ids - #gone > #out })

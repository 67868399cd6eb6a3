-- stream_tips: the newest entry id of each given stream, and whether a worker is suspended. Read-only.
--
-- The Worker runtime calls it before a claim that may come back empty, then blocks (XREAD) for
-- entries newer than these ids: a job added after this call, even before the claim, wakes it.
-- A missing or empty stream reports '0-0'.
--
-- KEYS[1]   the worker's registry record (P worker:{w}); may not exist
-- KEYS[2+]  the streams
-- ARGV: none
-- Returns JSON: {tips=[id per stream in KEYS order], suspended=true|false}
local tips = {}
for i = 2, #KEYS do
  local last = redis.call('XREVRANGE', KEYS[i], '+', '-', 'COUNT', 1)
  if last[1] then tips[#tips + 1] = last[1][1] else tips[#tips + 1] = '0-0' end
end
local suspended = redis.call('HGET', KEYS[1], 'suspended') == '1'
return cjson.encode({ tips = tips, suspended = suspended })

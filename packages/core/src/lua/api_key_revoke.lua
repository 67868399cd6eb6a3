-- api_key_revoke: marks an API key revoked; it stops working at once. Idempotent.
--
-- KEYS[1]  the key's record (P apikey:{id})
-- ARGV[1]  key prefix
-- ARGV[2]  now (ms)
-- Returns JSON: {ok=true, fields=[k1, v1, ...]} or {ok=false, code="not_found"}
local now = tonumber(ARGV[2])
if redis.call('EXISTS', KEYS[1]) == 0 then return cjson.encode({ ok = false, code = 'not_found' }) end
local revoked = redis.call('HGET', KEYS[1], 'revoked_at')
if not revoked or revoked == '' then redis.call('HSET', KEYS[1], 'revoked_at', now) end
local fields = redis.call('HGETALL', KEYS[1])
local out = {}
for i = 1, #fields, 2 do
  if fields[i] ~= 'hash' then out[#out + 1] = fields[i]; out[#out + 1] = fields[i + 1] end
end
return cjson.encode({ ok = true, fields = out })

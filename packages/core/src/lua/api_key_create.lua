-- api_key_create: stores a new API key record (only the SHA-256 of its secret) and indexes it.
--
-- KEYS: none (keys are built from the prefix)
-- ARGV[1]  key prefix
-- ARGV[2]  now (ms)
-- ARGV[3]  key id
-- ARGV[4]  ms after now at which the record itself is deleted (expiry + retention), 0 = kept
-- ARGV[5+] field, value pairs of the record (id, principal, roles, levels, hash, name, created_at, expires_at)
-- Returns JSON: {ok=true} or {ok=false, code="duplicate"} when the id is taken
-- @include keys
local now, id, keep_ms = tonumber(ARGV[2]), ARGV[3], tonumber(ARGV[4])
local key = k_apikey(id)
if redis.call('EXISTS', key) == 1 then return cjson.encode({ ok = false, code = 'duplicate' }) end
local fields = {}
for i = 5, #ARGV do fields[#fields + 1] = ARGV[i] end
redis.call('HSET', key, unpack(fields))
if keep_ms > 0 then redis.call('PEXPIRE', key, keep_ms) end
redis.call('ZADD', K_APIKEYS, now, id)
return cjson.encode({ ok = true })

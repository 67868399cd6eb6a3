-- api_key_verify: checks a presented key against its stored record and notes when it was last used.
--
-- The caller hashes the presented secret (SHA-256); only hashes are compared, so the comparison
-- reveals nothing about the secret. last_used_at is refreshed at most once a minute.
--
-- KEYS[1]  the key's record (P apikey:{id})
-- ARGV[1]  key prefix
-- ARGV[2]  now (ms)
-- ARGV[3]  SHA-256 (hex) of the presented secret
-- Returns JSON: {status="ok", fields=[k1, v1, ...]} or {status="unknown"|"bad_secret"|"revoked"|"expired"}
local now, presented = tonumber(ARGV[2]), ARGV[3]
local rec = redis.call('HMGET', KEYS[1], 'hash', 'expires_at', 'revoked_at', 'last_used_at')
if not rec[1] then return cjson.encode({ status = 'unknown' }) end
if rec[1] ~= presented then return cjson.encode({ status = 'bad_secret' }) end
if rec[3] and rec[3] ~= '' then return cjson.encode({ status = 'revoked' }) end
local expires = tonumber(rec[2]) or 0
if expires > 0 and expires <= now then return cjson.encode({ status = 'expired' }) end
if now - (tonumber(rec[4]) or 0) >= 60000 then redis.call('HSET', KEYS[1], 'last_used_at', now) end
return cjson.encode({ status = 'ok', fields = redis.call('HGETALL', KEYS[1]) })

-- api_key_list: API key records, newest first, without their secret hashes. Index entries whose
-- record has expired away are pruned.
--
-- KEYS: none (keys are built from the prefix)
-- ARGV[1]  key prefix
-- ARGV[2]  now (ms)
-- ARGV[3]  most records to return
-- ARGV[4]  principal to filter on ('' = all)
-- ARGV[5]  '1' to include revoked keys
-- Returns JSON: [[k1, v1, ...], ...]
-- @include keys
local limit, principal, with_revoked = tonumber(ARGV[3]), ARGV[4], ARGV[5] == '1'
local FIELDS = { 'id', 'principal', 'roles', 'levels', 'name', 'created_at', 'expires_at', 'revoked_at', 'last_used_at' }
local out, gone = {}, {}
local ids = redis.call('ZREVRANGE', K_APIKEYS, 0, 9999)
for _, id in ipairs(ids) do
  if #out >= limit then break end
  local vals = redis.call('HMGET', k_apikey(id), unpack(FIELDS))
  if not vals[1] then
    gone[#gone + 1] = id
  elseif (principal == '' or vals[2] == principal) and (with_revoked or not vals[8] or vals[8] == '') then
    local row = {}
    for i, f in ipairs(FIELDS) do
      if vals[i] then row[#row + 1] = f; row[#row + 1] = vals[i] end
    end
    out[#out + 1] = row
  end
end
if #gone > 0 then redis.call('ZREM', K_APIKEYS, unpack(gone)) end
return cjson.encode(out)

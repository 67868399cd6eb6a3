-- get_request: read worker requests with their status and response (no writes).
--
-- KEYS: none
-- ARGV[1] key prefix
-- ARGV[2] now (ms)
-- ARGV[3] mode: "ids" (ARGV[4+] are request ids) | "open" | "closed" (ARGV[4] = limit)
-- Returns JSON: [{id, status, request, response|false, expires_at}] — an open request past its
-- expiry reads as expired even before maintenance closes it.
-- @include keys
local now, mode = tonumber(ARGV[2]), ARGV[3]
local ids
if mode == 'ids' then
  ids = {}
  for i = 4, #ARGV do ids[#ids + 1] = ARGV[i] end
elseif mode == 'open' then
  ids = redis.call('ZRANGE', K_REQ_OPEN, 0, tonumber(ARGV[4]) - 1)
else
  ids = redis.call('ZREVRANGE', K_REQ_CLOSED, 0, tonumber(ARGV[4]) - 1)
end
local out = {}
for _, rid in ipairs(ids) do
  local r = redis.call('HMGET', k_req(rid), 'status', 'request', 'response', 'expires_at')
  if r[1] then
    local status = r[1]
    if status == 'open' and tonumber(r[4]) <= now then status = 'expired' end
    out[#out + 1] = { id = rid, status = status, request = r[2], response = r[3], expires_at = tonumber(r[4]) }
  end
end
if #out == 0 then return '[]' end
return cjson.encode(out)

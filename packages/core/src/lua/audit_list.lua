-- audit_list: a page of audit entries, newest first, optionally filtered; scans a bounded number
-- of entries per call so a rare filter cannot make one call walk the whole log.
--
-- KEYS[1]  the audit stream (P audit)
-- ARGV[1]  key prefix
-- ARGV[2]  now (ms)
-- ARGV[3]  start: '+' or an exclusive entry id '(<id>' from the previous page
-- ARGV[4]  most entries to return
-- ARGV[5]  most entries to scan
-- ARGV[6]  principal filter ('' = any)
-- ARGV[7]  action filter ('' = any)
-- ARGV[8]  job id filter ('' = any)
-- Returns JSON: {entries=[[id, [k1, v1, ...]], ...], next=id|false}
local start, limit, budget = ARGV[3], tonumber(ARGV[4]), tonumber(ARGV[5])
local want = { principal = ARGV[6], action = ARGV[7], job = ARGV[8] }
local out, scanned, last = {}, 0, false
while #out < limit and scanned < budget do
  local count = math.min(100, budget - scanned)
  local batch = redis.call('XREVRANGE', KEYS[1], start, '-', 'COUNT', count)
  for _, e in ipairs(batch) do
    scanned = scanned + 1
    last = e[1]
    local f = {}
    for i = 1, #e[2], 2 do f[e[2][i]] = e[2][i + 1] end
    local ok = true
    for k, v in pairs(want) do
      if v ~= '' and f[k] ~= v then ok = false end
    end
    if ok then out[#out + 1] = e end
    if #out >= limit then break end
  end
  if #batch < count or not last then break end
  start = '(' .. last
end
-- a next page exists only if something older than the last examined entry remains
if last and #redis.call('XREVRANGE', KEYS[1], '(' .. last, '-', 'COUNT', 1) == 0 then last = false end
return cjson.encode({ entries = out, next = last })

-- dlq_list: a page of dead-lettered jobs, newest first, across queues, with filters (no writes).
--
-- KEYS: none
-- ARGV[1]  key prefix
-- ARGV[2]  now (ms)
-- ARGV[3]  oldest dead-letter time to include (ms, or "-inf")
-- ARGV[4]  cursor score: list entries dead-lettered at or before this (ms, or "+inf")
-- ARGV[5]  cursor id: at the cursor score, only ids sorting below this ("" = none)
-- ARGV[6]  page size
-- ARGV[7]  reason filter ("" = any)
-- ARGV[8]  error text filter, lower-case, plain substring of the error message or name ("" = any)
-- ARGV[9]  most entries to examine in this call (bounds the work when filters reject many)
-- ARGV[10+] queues
-- Returns JSON: {entries=[{id, queue, type, reason, at, attempts, error}], next=[score, id]|false}
-- (Lua's cjson encodes an empty list as {}: readers accept both.)
-- @include keys
local min, max, cid = ARGV[3], ARGV[4], ARGV[5]
local limit, reason, text, budget = tonumber(ARGV[6]), ARGV[7], ARGV[8], tonumber(ARGV[9])
local cands = {}
for i = 10, #ARGV do
  local q = ARGV[i]
  local rows = redis.call('ZREVRANGEBYSCORE', k_dlq(q), max, min, 'WITHSCORES', 'LIMIT', 0, budget + 1)
  for k = 1, #rows, 2 do
    local score = tonumber(rows[k + 1])
    if not (cid ~= '' and tostring(score) == max and rows[k] >= cid) then
      cands[#cands + 1] = { q = q, id = rows[k], score = score }
    end
  end
end
table.sort(cands, function(a, b)
  if a.score ~= b.score then return a.score > b.score end
  return a.id > b.id
end)
local entries, examined, last = {}, 0, nil
for _, c in ipairs(cands) do
  if #entries >= limit or examined >= budget then break end
  examined = examined + 1
  last = c
  local j = redis.call('HMGET', k_job(c.id), 'type', 'dlq_reason', 'attempts', 'error')
  local ok = j[1] ~= false
  if ok and reason ~= '' and j[2] ~= reason then ok = false end
  if ok and text ~= '' then
    local e = j[4] and cjson.decode(j[4]) or {}
    local hay = string.lower((e.message or '') .. ' ' .. (e.name or ''))
    if not string.find(hay, text, 1, true) then ok = false end
  end
  if ok then
    entries[#entries + 1] = { id = c.id, queue = c.q, type = j[1], reason = j[2], at = c.score,
      attempts = tonumber(j[3]), error = j[4] }
  end
end
local more = last ~= nil and examined < #cands
local next_cursor = false
if more or (#entries >= limit and last ~= nil) then next_cursor = { last.score, last.id } end
return cjson.encode({ entries = entries, next = next_cursor })

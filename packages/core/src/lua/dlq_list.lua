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
-- ARGV[10] error fingerprint filter ("" = any; see fingerprint below)
-- ARGV[11+] queues
-- Returns JSON: {entries=[{id, queue, type, reason, at, attempts, error, fingerprint}], next=[score, id]|false}
-- (Lua's cjson encodes an empty list as {}: readers accept both.)
-- @include keys
local min, max, cid = ARGV[3], ARGV[4], ARGV[5]
local limit, reason, text, budget, want_fp = tonumber(ARGV[6]), ARGV[7], ARGV[8], tonumber(ARGV[9]), ARGV[10]

-- An error's fingerprint groups failures with one cause: the first 12 hex digits of the SHA-1 of
-- its name and its message with the parts that vary per job blanked out (UUIDs and runs of 8+ hex
-- digits become '*', numbers '#', whitespace runs one space), so "timeout after 3012 ms on job
-- 9f1c…" and "timeout after 2990 ms on job 03ab…" share one.
local function fingerprint(e)
  local msg = string.lower(tostring(e.message or ''))
  msg = string.gsub(msg, '%x%x%x%x%x%x%x%x%-%x%x%x%x%-%x%x%x%x%-%x%x%x%x%-%x%x%x%x%x%x%x%x%x%x%x%x', '*')
  msg = string.gsub(msg, '%x%x%x%x%x%x%x%x+', '*')
  msg = string.gsub(msg, '%d+', '#')
  msg = string.gsub(msg, '%s+', ' ')
  return string.sub(redis.sha1hex(tostring(e.name or 'Error') .. '\n' .. string.sub(msg, 1, 500)), 1, 12)
end

local cands = {}
for i = 11, #ARGV do
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
  local e = {}
  if ok and j[4] then
    local decoded, v = pcall(cjson.decode, j[4])
    if decoded and type(v) == 'table' then e = v end
  end
  if ok and text ~= '' then
    local hay = string.lower((e.message or '') .. ' ' .. (e.name or ''))
    if not string.find(hay, text, 1, true) then ok = false end
  end
  local fp = ''
  if ok then
    fp = fingerprint(e)
    if want_fp ~= '' and fp ~= want_fp then ok = false end
  end
  if ok then
    entries[#entries + 1] = { id = c.id, queue = c.q, type = j[1], reason = j[2], at = c.score,
      attempts = tonumber(j[3]), error = j[4], fingerprint = fp }
  end
end
local more = last ~= nil and examined < #cands
local next_cursor = false
if more or (#entries >= limit and last ~= nil) then next_cursor = { last.score, last.id } end
return cjson.encode({ entries = entries, next = next_cursor })

-- jobs_list: a page of one queue's jobs in one state, read from the index that state lives in
-- (no job is scanned, nothing is written).
--
--   pending    the ready streams past the consumer group's last delivery, level by level (the most
--              restricted level first, as claims take them), oldest first
--   active     the consumer groups' pending entries (leased: active or waiting on an answer)
--   scheduled  the delayed set: scheduled (a runAt/delayMs start) and retrying (a retry's backoff)
--              jobs, soonest first, with their due time as run_at
--   deferred   jobs waiting for the jobs they depend on, oldest first
--   completed  the finished index within the result TTL, newest first
--   failed     the failed-for-good index within the failure TTL, newest first
--
-- KEYS: none
-- ARGV[1]  key prefix
-- ARGV[2]  now (ms)
-- ARGV[3]  queue
-- ARGV[4]  state: pending | active | scheduled | deferred | completed | failed
-- ARGV[5]  page size
-- ARGV[6]  cursor: '' to start; for pending/active '<level index>:<entry id>', otherwise
--          '<score>:<job id>': resume after that entry, wherever the entries before it went (a
--          position that stays put while jobs are promoted, finished or replayed around it)
-- ARGV[7]  oldest finish time to list (ms) for completed/failed (the TTL window), else ignored
-- Returns a flat array: the next cursor ('' when this is the last page), then SUMMARY_WIDTH items
-- per job: id, status, type, priority, level, attempts, max_attempts, created_at, enqueued_at,
-- started_at, finished_at, run_at, worker, error ('' for a missing field).
-- An index entry whose job is gone or has moved on (a stale stream entry: the job's entry is another
-- one now) is skipped, so a page may hold fewer than the page size while more follow.
-- @include keys
-- @include streams
local q, state, limit, cursor = ARGV[3], ARGV[4], tonumber(ARGV[5]), ARGV[6]
local FIELDS = { 'status', 'type', 'priority', 'level', 'attempts', 'max_attempts', 'created_at', 'enqueued_at',
  'started_at', 'finished_at', 'run_at', 'worker', 'error' }
local WANT = { pending = { pending = true }, active = { active = true, waiting = true }, scheduled = { scheduled = true, retrying = true },
  deferred = { deferred = true }, completed = { completed = true }, failed = { failed = true } }
local want = WANT[state]
if not want then return redis.error_reply('jobs_list: unknown state ' .. tostring(state)) end

local out = { '' }
local RUN_AT = 11 -- FIELDS index of run_at
local READ = { unpack(FIELDS) }
READ[#READ + 1] = 'entry'
-- Appends job `id` if it is in a wanted status (and, read from a stream, still owns entry `eid`);
-- `due` (the delayed set's score) replaces run_at.
local function add(id, due, eid)
  local v = redis.call('HMGET', k_job(id), unpack(READ))
  if not want[v[1]] then return end
  if eid and v[#READ] ~= eid then return end
  if due then v[RUN_AT] = due end
  out[#out + 1] = id
  for i = 1, #FIELDS do out[#out + 1] = v[i] or '' end
end

if state == 'pending' or state == 'active' then
  local start_level, after = 1, nil
  if cursor ~= '' then
    local l, e = string.match(cursor, '^(%d+):(%d+%-%d+)$')
    if not l then return redis.error_reply('jobs_list: bad cursor') end
    start_level, after = tonumber(l), e
  end
  -- the most restricted level first, as claims read them
  local order = { LEVELS[3], LEVELS[2], LEVELS[1] }
  local seen = 0
  for li = start_level, #order do
    local stream = k_ready(q, order[li])
    if redis.call('EXISTS', stream) == 1 then
      local entries
      if state == 'pending' then
        local _, last = group_state(stream)
        local from = '(' .. last
        if after and li == start_level then
          -- resume after the cursor, but never before the group's last delivery
          from = '(' .. after
          local ams, aseq = string.match(after, '^(%d+)-(%d+)$')
          local lms, lseq = string.match(last, '^(%d+)-(%d+)$')
          if tonumber(lms) > tonumber(ams) or (tonumber(lms) == tonumber(ams) and tonumber(lseq) > tonumber(aseq)) then from = '(' .. last end
        end
        entries = redis.call('XRANGE', stream, from, '+', 'COUNT', limit - seen)
      else
        local from = (after and li == start_level) and ('(' .. after) or '-'
        local pend = redis.pcall('XPENDING', stream, GROUP, from, '+', limit - seen)
        entries = {}
        if type(pend) == 'table' and not pend.err then
          for _, p in ipairs(pend) do
            local e = redis.call('XRANGE', stream, p[1], p[1])
            entries[#entries + 1] = e[1] or { p[1], { 'id', '' } }
          end
        end
      end
      for _, e in ipairs(entries) do
        seen = seen + 1
        if e[2][2] ~= '' then add(e[2][2], nil, e[1]) end
        if seen >= limit then
          out[1] = li .. ':' .. e[1]
          return out
        end
      end
    end
  end
  return out
end

-- The sorted sets: ascending by score (scheduled: due time; deferred: enqueue time) or, for the
-- finished and failed indexes, newest first within the TTL window. Members with equal scores sort
-- by id (reversed when descending), so `score:id` marks a position even after it left the set.
local TIE_BUDGET = 1000 -- entries of one score skipped per call at most (a batch shares one score)
local cscore, cid = nil, nil
if cursor ~= '' then
  local sc, id = string.match(cursor, '^(%d+):(.+)$')
  if not sc then return redis.error_reply('jobs_list: bad cursor') end
  cscore, cid = sc, id
end
local key, desc, floor
if state == 'completed' then key, desc, floor = k_done(q), true, ARGV[7]
elseif state == 'failed' then key, desc, floor = k_failed(q), true, ARGV[7]
elseif state == 'scheduled' then key, desc = k_delayed(q), false
else key, desc = k_deferred(q), false end

local want_rows = limit + 1 + (cscore and TIE_BUDGET or 0)
local rows
if desc then rows = redis.call('ZREVRANGEBYSCORE', key, cscore or '+inf', floor, 'WITHSCORES', 'LIMIT', 0, want_rows)
else rows = redis.call('ZRANGEBYSCORE', key, cscore or '-inf', '+inf', 'WITHSCORES', 'LIMIT', 0, want_rows) end
local taken, last = 0, nil
for k = 1, #rows, 2 do
  local id, score = rows[k], rows[k + 1]
  local before_cursor = cscore and tonumber(score) == tonumber(cscore) and ((desc and id >= cid) or (not desc and id <= cid))
  if not before_cursor then
    if taken == limit then
      out[1] = last -- more follow
      return out
    end
    add(id, state == 'scheduled' and score or nil)
    taken = taken + 1
  end
  last = score .. ':' .. id
end
-- a full fetch that ended inside the cursor's run of equal scores: resume after the last one seen
if #rows / 2 == want_rows and taken < limit and last then out[1] = last end
return out

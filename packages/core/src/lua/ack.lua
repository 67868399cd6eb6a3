-- ack: jobs succeeded. For each: stores the result, ends the delivery, keeps the record for its
-- result TTL, and releases the jobs that were waiting for it. Optionally leases the caller's next
-- jobs in the same call. A worker acks every job that finished while its previous ack was in flight
-- in one call (group commit): the per-call work and the stream, timer and index updates are shared
-- by the batch (one variadic XACK, XDEL, ZREM, ZADD and RPUSH each).
--
-- A job with a callback_url gets its 'completed' callback queued in the outbox (queue_callback).
-- A job acked with requests still open has them expire (expire_open_requests); a job that never
-- asked pays only for reading the empty field.
--
-- Each ack is checked on its own: one whose lease was lost is refused without affecting the others.
--
-- KEYS: none
-- ARGV[1] key prefix
-- ARGV[2] now (ms)
-- ARGV[3] lease holder the caller must be ('' = any; see holds_lease)
-- ARGV[4] n: number of acks
-- ARGV[5 .. 4+3n] per ack: job id, lease token, result JSON
-- then next-claim: consumer ('' = claim nothing), lease length in ms (0 = the job's timeout),
--         most jobs to lease, t = how many extra stream keys to report tips for (0 = no tips), those
--         t keys, then pairs queue, permission level, in claim order
-- Returns a flat array: per ack 5 items, in input order:
--           "ok", duration_ms, queue, attempts, callback_url ('' = none)
--           or "lease_lost", current status, '', '', ''   or "job_not_found", '', '', '', ''
--         then n_claimed, then CLAIMED_WIDTH items per job leased for the caller (as in claim);
--         when tips were asked for and fewer jobs than asked were leased (every stream was read
--         dry), then the next timer ms (-1 = none) and the tips of the t extra streams and of each
--         pair's stream, as an empty claim reports them: the worker waits on these instead of
--         making another (empty) claim
-- @include keys
-- @include job
-- @include retry
-- @include transitions
-- @include claim_core
local ACK_READ = { 'status', 'token', 'worker', 'queue', 'level', 'entry', 'history', 'result_ttl_ms',
  'last_started_at', 'attempts', 'callback_url', 'children', 'open_request_ids' }
local now, holder, n = tonumber(ARGV[2]), ARGV[3], tonumber(ARGV[4])
local out = {}
local delivered = {} -- stream -> entry ids to XACK and XDEL
local timers = {}    -- lease timers to drop
local done = {}      -- queue -> {now, id, now, id, ...} for the finished index
local durations = {} -- queue -> durations to append
local queues = {}    -- queues in first-seen order (deterministic writes)

for i = 0, n - 1 do
  local id, token, result = ARGV[5 + 3 * i], ARGV[6 + 3 * i], ARGV[7 + 3 * i]
  local key = k_job(id)
  local v = redis.call('HMGET', key, unpack(ACK_READ))
  local o = #out
  if not v[1] then
    out[o + 1], out[o + 2], out[o + 3], out[o + 4], out[o + 5] = 'job_not_found', '', '', '', ''
  elseif not holds_lease({ status = v[1], token = v[2], worker = v[3] }, token, holder) then
    out[o + 1], out[o + 2], out[o + 3], out[o + 4], out[o + 5] = 'lease_lost', v[1], '', '', ''
  else
    local q, attempts = v[4], num(v[10], 0)
    if v[6] and v[6] ~= '' then
      local stream = k_ready(q, v[5])
      local list = delivered[stream]
      if not list then
        list = {}
        delivered[stream] = list
      end
      list[#list + 1] = v[6]
    end
    timers[#timers + 1] = 'L:' .. id
    local duration = now - num(v[9], now)
    local w = ''
    if v[3] then w = ',"w":' .. cjson.encode(v[3]) end
    redis.call('HSET', key, 'status', 'completed', 'result', result, 'finished_at', now, 'lease_until', '',
      'entry', '', 'error', '', 'history', history_append(v[7], '{"t":' .. now .. ',"s":"completed","a":' .. attempts .. w .. '}'))
    redis.call('PEXPIRE', key, num(v[8], 86400000))
    if not done[q] then
      done[q], durations[q] = {}, {}
      queues[#queues + 1] = q
    end
    local d = done[q]
    d[#d + 1] = now
    d[#d + 1] = id
    durations[q][#durations[q] + 1] = duration
    if v[12] then release_children(v[12], now) end
    if v[13] and v[13] ~= '' then expire_open_requests(id, v[13], now) end
    queue_callback(v[11], id, 'completed', q, attempts, now)
    out[o + 1], out[o + 2], out[o + 3], out[o + 4], out[o + 5] = 'ok', duration, q, attempts, v[11] or ''
  end
end

for stream, ids in pairs(delivered) do
  redis.call('XACK', stream, GROUP, unpack(ids))
  redis.call('XDEL', stream, unpack(ids))
end
if #timers > 0 then redis.call('ZREM', K_TIMERS, unpack(timers)) end
for _, q in ipairs(queues) do
  redis.call('ZADD', k_done(q), unpack(done[q]))
  redis.call('RPUSH', k_durations(q), unpack(durations[q]))
end

local at = #out + 1
out[at] = 0
local consumer = ARGV[5 + 3 * n]
if consumer ~= '' then
  local count, ntips = tonumber(ARGV[7 + 3 * n]), tonumber(ARGV[8 + 3 * n])
  local tip_keys, pairs_list = {}, {}
  for i = 9 + 3 * n, 8 + 3 * n + ntips do tip_keys[#tip_keys + 1] = ARGV[i] end
  for i = 9 + 3 * n + ntips, #ARGV do pairs_list[#pairs_list + 1] = ARGV[i] end
  local got = claim_jobs(now, consumer, tonumber(ARGV[6 + 3 * n]), count, pairs_list, out)
  out[at] = got
  if ntips > 0 and got < count then
    local nxt = redis.call('ZRANGE', K_TIMERS, 0, 0, 'WITHSCORES')
    out[#out + 1] = tonumber(nxt[2]) or -1
    for p = 1, #pairs_list, 2 do tip_keys[#tip_keys + 1] = k_ready(pairs_list[p], pairs_list[p + 1]) end
    for _, t in ipairs(stream_tips(tip_keys)) do out[#out + 1] = t end
  end
end
return out

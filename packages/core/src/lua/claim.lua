-- claim: lease up to `count` ready jobs, in strict priority order, from the streams the claimer may read.
--
-- Before reading, fires up to 10 due timers (expired leases are reclaimed, due delayed jobs are
-- promoted), so claimers make progress even when the scheduled maintenance is late.
-- A stream entry whose job is gone or no longer pending is dropped; a job whose queue TTL passed
-- before its first start is expired instead of delivered.
-- When fewer jobs than asked were claimable and tip streams are given, also replies with their
-- newest entry ids, so a blocking waiter can wait for anything appended after this claim without
-- a race (and without another, empty, claim first).
--
-- KEYS: none (keys are built from the prefix)
-- ARGV[1]  key prefix
-- ARGV[2]  now (ms)
-- ARGV[3]  consumer (worker id)
-- ARGV[4]  lease length in ms (0 = the job's timeout)
-- ARGV[5]  random seed for retry jitter of reclaimed jobs
-- ARGV[6]  most jobs to lease
-- ARGV[7]  t: how many extra stream keys to report tips for (0 = report no tips)
-- ARGV[8 .. 7+t]  the extra stream keys (e.g. the worker's control stream), reported first
-- ARGV[8+t ..]    pairs: queue, permission level — in the order to try them
-- Returns a flat array: "claimed", n, then CLAIMED_WIDTH items per job (see claim_core: id, queue,
--            level, token, lease_until, attempt, priority, type, payload, max_attempts, created_at,
--            timeout_ms, error), then, when tips were asked for and n < count, the next timer ms
--            (-1 = none) and the tips as below
--            or "empty", next timer ms (-1 = none), then (when tips were asked for) the extra streams'
--            tips followed by each pair's stream tip
-- @include keys
-- @include job
-- @include retry
-- @include transitions
-- @include claim_core
local now, consumer, lease_ms, count = tonumber(ARGV[2]), ARGV[3], tonumber(ARGV[4]), tonumber(ARGV[6])
fire_timers(now, 10, ARGV[5])

local ntips = tonumber(ARGV[7])
local pairs_list, tip_keys = {}, {}
for i = 8, 7 + ntips do tip_keys[#tip_keys + 1] = ARGV[i] end
for i = 8 + ntips, #ARGV do pairs_list[#pairs_list + 1] = ARGV[i] end

local out = { 'claimed', 0 }
local n = claim_jobs(now, consumer, lease_ms, count, pairs_list, out)
if n > 0 then
  out[2] = n
  if ntips == 0 or n >= count then return out end
else
  out = { 'empty' }
end

local nxt = redis.call('ZRANGE', K_TIMERS, 0, 0, 'WITHSCORES')
out[#out + 1] = tonumber(nxt[2]) or -1
if ntips > 0 then
  for p = 1, #pairs_list, 2 do tip_keys[#tip_keys + 1] = k_ready(pairs_list[p], pairs_list[p + 1]) end
  for _, t in ipairs(stream_tips(tip_keys)) do out[#out + 1] = t end
end
return out

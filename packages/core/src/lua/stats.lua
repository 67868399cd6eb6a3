-- stats: per-queue counts without scanning jobs.
--
-- KEYS: none
-- ARGV[1]  key prefix
-- ARGV[2]  now (ms)
-- ARGV[3+] triples: queue, result TTL ms, failure TTL ms
-- Returns JSON: [{queue, pending, started, scheduled, finished, failed, dlq, deferred, oldest_ready_at,
--   stream_length, counters=[k,v,...], levels={<level>={pending, started}}}]
-- pending = ready and not yet delivered; started = leased (delivered, not acked; seed 2's
-- pending_count, the consumer groups' pending entries); stream_length = entries in the queue's ready
-- streams (XLEN: pending + started);
-- scheduled = delayed or waiting out a retry backoff; finished/failed = within their TTL windows.
-- @include keys
-- @include streams
local now = tonumber(ARGV[2])
local out = {}
for p = 3, #ARGV, 3 do
  local q = ARGV[p]
  local pending, started, oldest, total = 0, 0, false, 0
  local levels = {} -- per permission level: what only workers allowed that level can take
  for _, lvl in ipairs(LEVELS) do
    local stream = k_ready(q, lvl)
    local len = redis.call('XLEN', stream)
    total = total + len
    levels[lvl] = { pending = 0, started = 0 }
    if len > 0 then
      local pel, last = group_state(stream)
      started = started + pel
      levels[lvl] = { pending = len - pel, started = pel }
      if len - pel > 0 then
        pending = pending + (len - pel)
        local first = redis.call('XRANGE', stream, '(' .. last, '+', 'COUNT', 1)
        if first[1] then
          local t = tonumber(first[1][2][4])
          if not oldest or t < oldest then oldest = t end
        end
      end
    end
  end
  out[#out + 1] = {
    queue = q, pending = pending, started = started, oldest_ready_at = oldest, stream_length = total,
    scheduled = redis.call('ZCARD', k_delayed(q)),
    finished = redis.call('ZCOUNT', k_done(q), now - tonumber(ARGV[p + 1]), '+inf'),
    failed = redis.call('ZCOUNT', k_failed(q), now - tonumber(ARGV[p + 2]), '+inf'),
    dlq = redis.call('ZCARD', k_dlq(q)),
    deferred = redis.call('ZCARD', k_deferred(q)),
    counters = redis.call('HGETALL', k_counters(q)),
    levels = levels,
  }
end
return cjson.encode(out)

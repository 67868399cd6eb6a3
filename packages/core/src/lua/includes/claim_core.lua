-- Leasing ready jobs: shared by claim (the claim loop) and ack (ack finished jobs and take the next
-- ones in the same call). This is every busy worker's path, so it is written for speed: fields are
-- read by position, history entries are built as strings, and the lease timers of all jobs leased
-- in one call are set with one variadic ZADD.
local CLAIM_READ = { 'status', 'entry', 'token', 'attempts', 'timeout_ms', 'ttl_ms', 'started_at', 'history',
  'children', 'failure_ttl_ms', 'priority', 'type', 'payload', 'max_attempts', 'created_at', 'error' }
-- Per leased job the reply carries CLAIMED_WIDTH items: id, queue, level, token, lease_until, attempt,
-- then priority, type, payload, max_attempts, created_at, timeout_ms, error ('' when none).
local CLAIMED_WIDTH = 13

-- Reads up to n new entries of `stream` for `consumer`, creating the group on the stream's first use.
local function read_entries(stream, consumer, n)
  local res = redis.pcall('XREADGROUP', 'GROUP', GROUP, consumer, 'COUNT', n, 'STREAMS', stream, '>')
  if type(res) == 'table' and res.err then
    if string.find(res.err, 'NOGROUP', 1, true) then
      redis.call('XGROUP', 'CREATE', stream, GROUP, '0', 'MKSTREAM')
      res = redis.call('XREADGROUP', 'GROUP', GROUP, consumer, 'COUNT', n, 'STREAMS', stream, '>')
    else
      return redis.error_reply(res.err)
    end
  end
  if not res then return {} end
  return res[1][2]
end

-- A job whose queue TTL passed before its first start: it expires instead of being delivered.
local function expire_unstarted(id, q, v, now)
  redis.call('HSET', k_job(id), 'status', 'expired', 'entry', '', 'finished_at', now,
    'history', history_push(v[8], now, 'expired'))
  redis.call('PEXPIRE', k_job(id), num(v[10], 604800000))
  redis.call('HINCRBY', k_counters(q), 'expired', 1)
  if v[9] then cancel_children(v[9], now, id, 'expired') end
end

-- Leases up to `count` jobs from the streams of `pairs` ({queue, level, queue, level, ...}) in that
-- order, appending CLAIMED_WIDTH items per job to `out`. Every entry read is either leased or
-- dropped: a stale entry (job gone, no longer pending) is acked and deleted; a job whose TTL passed
-- before its first start is expired. Returns the number of jobs leased.
local function claim_jobs(now, consumer, lease_ms, count, pairs, out)
  local n, timers = 0, {}
  local who = cjson.encode(consumer)
  for p = 1, #pairs, 2 do
    local q, lvl = pairs[p], pairs[p + 1]
    local stream = k_ready(q, lvl)
    for _ = 1, 50 do
      local want = count - n
      if want <= 0 then break end
      local entries = read_entries(stream, consumer, want)
      if #entries == 0 then break end
      local dropped = {}
      for _, e in ipairs(entries) do
        local eid, id = e[1], e[2][2]
        local key = k_job(id)
        local v = redis.call('HMGET', key, unpack(CLAIM_READ))
        local attempts = num(v[4], 0)
        if v[1] ~= 'pending' or v[2] ~= eid then
          dropped[#dropped + 1] = eid
        elseif attempts == 0 and num(v[6], 0) > 0 and now - tonumber(e[2][4]) > num(v[6], 0) then
          dropped[#dropped + 1] = eid
          expire_unstarted(id, q, v, now)
        else
          local token = num(v[3], 0) + 1
          attempts = attempts + 1
          local lease = lease_ms
          if lease <= 0 then lease = num(v[5], 3600000) end
          local deadline = now + lease
          redis.call('HSET', key, 'status', 'active', 'worker', consumer, 'token', token, 'attempts', attempts,
            'open_requests', 0, 'lease_ms', lease, 'lease_until', deadline, 'started_at', v[7] or now,
            'last_started_at', now,
            'history', history_append(v[8], '{"t":' .. now .. ',"s":"active","a":' .. attempts .. ',"w":' .. who .. '}'))
          timers[#timers + 1] = deadline
          timers[#timers + 1] = 'L:' .. id
          n = n + 1
          local o = #out
          out[o + 1], out[o + 2], out[o + 3], out[o + 4], out[o + 5], out[o + 6] = id, q, lvl, token, deadline, attempts
          out[o + 7], out[o + 8], out[o + 9], out[o + 10] = v[11] or '', v[12] or '', v[13] or 'null', v[14] or '1'
          out[o + 11], out[o + 12], out[o + 13] = v[15] or '', v[5] or '0', v[16] or ''
        end
      end
      if #dropped > 0 then
        redis.call('XACK', stream, GROUP, unpack(dropped))
        redis.call('XDEL', stream, unpack(dropped))
      end
    end
    if n >= count then break end
  end
  if n > 0 then redis.call('ZADD', K_TIMERS, unpack(timers)) end
  return n
end

-- The newest entry id of each stream ('0-0' when empty or missing): a blocking XREAD after these
-- ids wakes on anything appended after this script ran.
local function stream_tips(keys)
  local tips = {}
  for _, key in ipairs(keys) do
    local last = redis.call('XREVRANGE', key, '+', '-', 'COUNT', 1)
    if last[1] then tips[#tips + 1] = last[1][1] else tips[#tips + 1] = '0-0' end
  end
  return tips
end

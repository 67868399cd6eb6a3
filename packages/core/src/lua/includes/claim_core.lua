-- Leasing ready jobs: shared by claim (the claim loop) and ack (ack the finished job and take the
-- next one in the same call).
local CLAIM_FIELDS = { 'id', 'queue', 'level', 'priority', 'type', 'payload', 'status', 'entry', 'attempts',
  'max_attempts', 'timeout_ms', 'ttl_ms', 'token', 'history', 'created_at', 'started_at', 'failure_ttl_ms',
  'callback_url', 'error', 'children' }
local HISTORY_AT = 14

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

-- Leases up to `count` jobs from the streams of `pairs` ({queue, level, queue, level, ...}) in that
-- order. Every entry read is either leased or dropped: a stale entry (job gone, no longer pending)
-- is acked and deleted; a job whose TTL passed before its first start is expired.
-- Returns a list of {fields=[CLAIM_FIELDS values], token, lease_until, attempts}.
local function claim_jobs(now, consumer, lease_ms, count, pairs)
  local out = {}
  for p = 1, #pairs, 2 do
    local q, lvl = pairs[p], pairs[p + 1]
    local stream = k_ready(q, lvl)
    for _ = 1, 50 do
      local want = count - #out
      if want <= 0 then return out end
      local entries = read_entries(stream, consumer, want)
      if #entries == 0 then break end
      for _, e in ipairs(entries) do
        local eid, id, ready_at = e[1], e[2][2], tonumber(e[2][4])
        local vals = redis.call('HMGET', k_job(id), unpack(CLAIM_FIELDS))
        local j = {}
        for i, f in ipairs(CLAIM_FIELDS) do j[f] = vals[i] end
        if j.status ~= 'pending' or j.entry ~= eid then
          redis.call('XACK', stream, GROUP, eid)
          redis.call('XDEL', stream, eid)
        elseif num(j.ttl_ms, 0) > 0 and num(j.attempts, 0) == 0 and now - ready_at > num(j.ttl_ms, 0) then
          redis.call('XACK', stream, GROUP, eid)
          redis.call('XDEL', stream, eid)
          redis.call('HSET', k_job(id), 'status', 'expired', 'entry', '', 'finished_at', now,
            'history', history_push(j.history, now, 'expired'))
          redis.call('PEXPIRE', k_job(id), num(j.failure_ttl_ms, 604800000))
          redis.call('HINCRBY', k_counters(q), 'expired', 1)
          if j.children then cancel_children(j.children, now, id, 'expired') end
        else
          local token = num(j.token, 0) + 1
          local attempts = num(j.attempts, 0) + 1
          local lease = lease_ms
          if lease <= 0 then lease = num(j.timeout_ms, 3600000) end
          local deadline = now + lease
          redis.call('HSET', k_job(id), 'status', 'active', 'worker', consumer, 'token', token, 'attempts', attempts, 'open_requests', 0,
            'lease_ms', lease, 'lease_until', deadline, 'started_at', j.started_at or now, 'last_started_at', now,
            'history', history_push(j.history, now, 'active', { a = attempts, w = consumer }))
          redis.call('ZADD', K_TIMERS, deadline, 'L:' .. id)
          vals[HISTORY_AT] = false -- the claimer does not need the history: keep the reply small
          out[#out + 1] = { fields = vals, token = token, lease_until = deadline, attempts = attempts }
        end
      end
    end
  end
  return out
end

-- Appends claimed jobs to a flat reply: per job token, lease_until, attempts, then the CLAIM_FIELDS
-- values ('' for a missing field). A flat array is cheaper to build and read than JSON, and these
-- replies are on every busy worker's path.
local function append_claimed(out, jobs)
  for _, c in ipairs(jobs) do
    out[#out + 1] = c.token
    out[#out + 1] = c.lease_until
    out[#out + 1] = c.attempts
    for i = 1, #CLAIM_FIELDS do out[#out + 1] = c.fields[i] or '' end
  end
  return out
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

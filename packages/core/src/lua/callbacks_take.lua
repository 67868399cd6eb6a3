-- callbacks_take: hands the caller job callbacks to send from the outbox (P callbacks, filled by
-- queue_callback in the scripts that finish jobs). Each entry goes to one sender at a time (the
-- consumer group "senders"); it stays in the outbox until callbacks_settle, so a failed send or a
-- sender that died is retried: an entry taken `retry_ms` ago and not settled is taken again, and one
-- taken `max_deliveries` times is dropped (reported, so the caller can log it).
--
-- An empty outbox costs one XLEN: this runs on every maintenance tick and after every ack of a job
-- with a callback_url.
--
-- KEYS: none (keys are built from the prefix)
-- ARGV[1] key prefix
-- ARGV[2] now (ms)
-- ARGV[3] sender: the consumer name (a role such as 'api', 'worker', 'maintenance')
-- ARGV[4] most entries to take
-- ARGV[5] retry_ms: an unsettled entry is taken again once this long has passed since it was taken
-- ARGV[6] max_deliveries: an unsettled entry taken this many times is dropped instead
-- Returns JSON: {entries=[{entry, id, outcome, queue, attempts, url, finished_at, deliveries,
--                  status, result, error}], dropped=[{entry, id, outcome, url, deliveries}]}
--   status/result/error are read from the job record now ('' when the record is gone).
-- @include keys
local sender, n = ARGV[3], tonumber(ARGV[4])
local retry_ms, max_deliveries = tonumber(ARGV[5]), tonumber(ARGV[6])
local entries, dropped = {}, {}
if redis.call('XLEN', K_CALLBACKS) == 0 then return cjson.encode({ entries = entries, dropped = dropped }) end

local function fields_of(kv)
  local f = {}
  for i = 1, #kv, 2 do f[kv[i]] = kv[i + 1] end
  return f
end

local function add(eid, kv, deliveries)
  local f = fields_of(kv)
  local j = redis.call('HMGET', k_job(f.id), 'status', 'result', 'error')
  entries[#entries + 1] = { entry = eid, id = f.id, outcome = f.o, queue = f.q, attempts = tonumber(f.a),
    url = f.u, finished_at = tonumber(f.t), deliveries = deliveries, status = j[1] or '', result = j[2] or '',
    error = j[3] or '' }
end

local pending = redis.pcall('XPENDING', K_CALLBACKS, CALLBACK_GROUP, 'IDLE', retry_ms, '-', '+', n)
if type(pending) == 'table' and pending.err then
  if not string.find(pending.err, 'NOGROUP', 1, true) then return redis.error_reply(pending.err) end
  redis.call('XGROUP', 'CREATE', K_CALLBACKS, CALLBACK_GROUP, '0')
  pending = {}
end
local again, times = {}, {}
for _, p in ipairs(pending) do
  local eid, deliveries = p[1], tonumber(p[4])
  if deliveries >= max_deliveries then
    local e = redis.call('XRANGE', K_CALLBACKS, eid, eid)
    if e[1] then
      local f = fields_of(e[1][2])
      dropped[#dropped + 1] = { entry = eid, id = f.id, outcome = f.o, url = f.u, deliveries = deliveries }
    end
    redis.call('XACK', K_CALLBACKS, CALLBACK_GROUP, eid)
    redis.call('XDEL', K_CALLBACKS, eid)
  else
    again[#again + 1] = eid
    times[eid] = deliveries + 1
  end
end
if #again > 0 then
  local claimed = redis.call('XCLAIM', K_CALLBACKS, CALLBACK_GROUP, sender, retry_ms, unpack(again))
  for _, e in ipairs(claimed) do
    if type(e) == 'table' and e[2] then add(e[1], e[2], times[e[1]]) end
  end
end

local want = n - #entries
if want > 0 then
  local res = redis.call('XREADGROUP', 'GROUP', CALLBACK_GROUP, sender, 'COUNT', want, 'STREAMS', K_CALLBACKS, '>')
  if res then
    for _, e in ipairs(res[1][2]) do add(e[1], e[2], 1) end
  end
end
return cjson.encode({ entries = entries, dropped = dropped })

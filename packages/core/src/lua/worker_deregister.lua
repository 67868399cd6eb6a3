-- worker_deregister: a worker that stopped cleanly leaves the registry.
--
-- Deletes its record and control stream, drops it from the workers index and removes its consumer
-- from the given ready streams' group where it holds no pending entry (a consumer with pending
-- entries is kept: those leases are still recovered by their timers).
--
-- KEYS: none
-- ARGV[1]  key prefix
-- ARGV[2]  now (ms)
-- ARGV[3]  worker id (also its consumer name)
-- ARGV[4+] pairs: queue, permission level — the ready streams it read
-- Returns JSON: {ok=true, consumers_removed=n}
-- @include keys
local id = ARGV[3]
redis.call('DEL', k_worker(id), k_worker_control(id))
redis.call('ZREM', K_WORKERS, id)
local removed = 0
for p = 4, #ARGV, 2 do
  local stream = k_ready(ARGV[p], ARGV[p + 1])
  local pending = redis.pcall('XPENDING', stream, GROUP, '-', '+', 1, id)
  if type(pending) == 'table' and not pending.err and #pending == 0 then
    local r = redis.pcall('XGROUP', 'DELCONSUMER', stream, GROUP, id)
    if type(r) == 'number' then removed = removed + 1 end
  end
end
return cjson.encode({ ok = true, consumers_removed = removed })

-- prune_consumers: remove the stream consumers of workers that are gone, without stranding entries.
-- A consumer is deleted only when it has no pending entries and the server has not seen it for
-- longer than the idle threshold. A consumer that still has pending entries is always kept: those
-- entries belong to leases that the lease timers reclaim (reclaim XACKs them), after which the
-- consumer is empty and a later run deletes it. Deleting the consumer of a live but idle worker is
-- harmless: its next XREADGROUP re-creates it.
--
-- KEYS: none (keys are built from the prefix)
-- ARGV[1]  key prefix
-- ARGV[2]  now (ms; unused: idleness is the server's own measure)
-- ARGV[3]  idle threshold in ms
-- ARGV[4+] queue names
-- Returns JSON: {removed=[[stream, consumer], ...] ({} when none), kept_with_pending=n, examined=n}
-- @include keys
-- @include streams
local threshold = tonumber(ARGV[3])
local removed, kept, examined = {}, 0, 0

local function hash_of(flat)
  local h = {}
  for i = 1, #flat, 2 do h[flat[i]] = flat[i + 1] end
  return h
end

for p = 4, #ARGV do
  for _, lvl in ipairs(LEVELS) do
    local stream = k_ready(ARGV[p], lvl)
    local groups = redis.pcall('XINFO', 'GROUPS', stream)
    if type(groups) == 'table' and not groups.err then
      for _, g in ipairs(groups) do
        local gh = hash_of(g)
        if gh['name'] == GROUP and tonumber(gh['consumers']) > 0 then
          for _, c in ipairs(redis.call('XINFO', 'CONSUMERS', stream, GROUP)) do
            local ch = hash_of(c)
            examined = examined + 1
            if tonumber(ch['pending']) > 0 then
              kept = kept + 1
            elseif tonumber(ch['idle']) >= threshold then
              redis.call('XGROUP', 'DELCONSUMER', stream, GROUP, ch['name'])
              removed[#removed + 1] = { stream, ch['name'] }
            end
          end
        end
      end
    end
  end
end
return cjson.encode({ removed = removed, kept_with_pending = kept, examined = examined })

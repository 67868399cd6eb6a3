-- Reading job records and appending to their bounded transition history.
local HISTORY_MAX = 50

-- HMGET the given fields of a job into a table keyed by field name (missing fields are false).
local function load_job(id, fields)
  local vals = redis.call('HMGET', k_job(id), unpack(fields))
  local j = {}
  for i, f in ipairs(fields) do j[f] = vals[i] end
  return j
end

-- Returns the history JSON with one more entry {t, s, ...extra}; keeps the newest HISTORY_MAX.
local function history_push(hist, now, status, extra)
  local h = {}
  if hist and hist ~= '' then h = cjson.decode(hist) end
  local e = { t = now, s = status }
  if extra then for k, v in pairs(extra) do e[k] = v end end
  h[#h + 1] = e
  while #h > HISTORY_MAX do table.remove(h, 2) end -- entry 1 (created) is kept
  return cjson.encode(h)
end

local function num(v, default)
  return tonumber(v) or default
end

-- The lease check of every lease-holding operation: the job is leased (active or waiting), the
-- token is the current one, and, when `holder` is given, the lease belongs to that holder
-- (`holder` itself or one of its instances `holder:…`).
local function holds_lease(j, token, holder)
  if (j.status ~= 'active' and j.status ~= 'waiting') or j.token ~= token then return false end
  if holder == nil or holder == '' then return true end
  local w = j.worker or ''
  return w == holder or string.sub(w, 1, #holder + 1) == holder .. ':'
end

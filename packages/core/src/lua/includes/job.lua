-- Reading job records and appending to their bounded transition history.
-- The history is a JSON array kept under HISTORY_MAX_BYTES: appending is plain string work (no
-- decode/encode on every transition); past the bound, the oldest entries but the first go.
local HISTORY_MAX_BYTES = 4096
local HISTORY_KEEP = 30

-- HMGET the given fields of a job into a table keyed by field name (missing fields are false).
local function load_job(id, fields)
  local vals = redis.call('HMGET', k_job(id), unpack(fields))
  local j = {}
  for i, f in ipairs(fields) do j[f] = vals[i] end
  return j
end

-- Returns the history JSON with one more entry, given already encoded (hot paths build it as a
-- string).
local function history_append(hist, enc)
  if not hist or hist == '' then return '[' .. enc .. ']' end
  if #hist + #enc < HISTORY_MAX_BYTES then return string.sub(hist, 1, -2) .. ',' .. enc .. ']' end
  local h = cjson.decode(hist)
  local kept = { h[1] } -- the first entry (created) and the newest ones
  for i = math.max(2, #h - HISTORY_KEEP + 2), #h do kept[#kept + 1] = h[i] end
  kept[#kept + 1] = cjson.decode(enc)
  return cjson.encode(kept)
end

-- Returns the history JSON with one more entry {t, s, ...extra}.
local function history_push(hist, now, status, extra)
  local e = { t = now, s = status }
  if extra then for k, v in pairs(extra) do e[k] = v end end
  return history_append(hist, cjson.encode(e))
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

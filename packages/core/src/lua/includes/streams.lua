-- Reading a ready stream's consumer-group state.
local LEVELS = { 'autonomous', 'supervised', 'human_required' }

-- Returns pel (entries delivered and not yet acked) and the group's last-delivered id, or 0, '0-0'
-- when the group does not exist yet (nothing was ever claimed from this stream).
local function group_state(stream)
  local groups = redis.pcall('XINFO', 'GROUPS', stream)
  if type(groups) ~= 'table' or groups.err then return 0, '0-0' end
  for _, g in ipairs(groups) do
    local h = {}
    for i = 1, #g, 2 do h[g[i]] = g[i + 1] end
    if h['name'] == GROUP then return tonumber(h['pending']), h['last-delivered-id'] end
  end
  return 0, '0-0'
end

-- The retry delay, same formula as retryDelayMs in packages/core/src/retry.ts.
-- policy: "exp:<base_ms>:<factor>:<max_ms>:<jitter>" or "fixed:<ms>,<ms>,..."; attempt is 1-based;
-- jitter is uniform in [-1, 1].
local function retry_delay(policy, attempt, jitter)
  local kind, rest = string.match(policy, '^(%a+):(.*)$')
  if kind == 'fixed' then
    local list = {}
    for v in string.gmatch(rest, '[^,]+') do list[#list + 1] = tonumber(v) end
    return list[math.min(attempt, #list)] or 0
  end
  local base, factor, cap, spread = string.match(rest, '^([^:]+):([^:]+):([^:]+):([^:]+)$')
  local raw = tonumber(base) * (tonumber(factor) ^ (attempt - 1))
  return math.floor(math.min(tonumber(cap), raw * (1 + jitter * tonumber(spread))))
end

-- A per-item jitter in [-1, 1] derived from one random seed passed by the caller, so a script
-- that retries several jobs does not give them all the same delay. Lua's math.random is seeded
-- identically on every script run, so it cannot be used.
local function jitter_for(seed, i)
  local x = (tonumber(seed) * 1000003 + i * 7919) % 2000
  return x / 1000 - 1
end

-- Key layout, mirroring packages/core/src/keys.ts (test/engine/scripts.test.ts checks they agree).
-- Every script takes the key prefix as ARGV[1] and builds the keys it learns about while running.
local PREFIX = ARGV[1]
local GROUP = 'workers'
local K_TIMERS = PREFIX .. 'timers'
local function k_job(id) return PREFIX .. 'job:' .. id end
local function k_q(q, suffix) return PREFIX .. '{' .. q .. '}:' .. suffix end
local function k_ready(q, lvl) return k_q(q, 'ready:' .. lvl) end
local function k_delayed(q) return k_q(q, 'delayed') end
local function k_done(q) return k_q(q, 'done') end
local function k_failed(q) return k_q(q, 'failed') end
local function k_dlq(q) return k_q(q, 'dlq') end
local function k_counters(q) return k_q(q, 'counters') end
local function k_durations(q) return k_q(q, 'durations') end

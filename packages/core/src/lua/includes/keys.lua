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
local function k_deferred(q) return k_q(q, 'deferred') end
local function k_counters(q) return k_q(q, 'counters') end
local function k_durations(q) return k_q(q, 'durations') end
local function k_req(id) return PREFIX .. 'req:' .. id end
local function k_req_signal(id) return PREFIX .. 'req:' .. id .. ':signal' end
local K_REQ_OPEN = PREFIX .. 'requests:open'
local K_REQ_CLOSED = PREFIX .. 'requests:closed'
local K_WORKERS = PREFIX .. 'workers'
local function k_worker(id) return PREFIX .. 'worker:' .. id end
local function k_worker_control(id) return k_worker(id) .. ':control' end
local function k_dlq_seen(q) return k_q(q, 'dlq:seen') end
local K_METRICS_LAST = PREFIX .. 'metrics:last'
local K_METRICS_OUTBOX = PREFIX .. 'metrics:outbox'
local function k_apikey(id) return PREFIX .. 'apikey:' .. id end
local K_APIKEYS = PREFIX .. 'apikeys'
local K_AUDIT = PREFIX .. 'audit'
local K_CALLBACKS = PREFIX .. 'callbacks'
local K_SCHEDULES = PREFIX .. 'schedules'
local K_SCHEDULES_DUE = PREFIX .. 'schedules:due'
local CALLBACK_GROUP = 'senders'

-- lease_owner: who holds a job's lease, so the API can refuse a worker acting on a job it does
-- not hold before the lease-checked transition itself runs.
--
-- KEYS[1]  the job's record (P job:{id})
-- ARGV[1]  key prefix
-- ARGV[2]  now (ms)
-- Returns JSON: {exists=false} or {exists=true, status, worker, token}
local v = redis.call('HMGET', KEYS[1], 'status', 'worker', 'token')
if not v[1] then return cjson.encode({ exists = false }) end
return cjson.encode({ exists = true, status = v[1], worker = v[2] or '', token = tonumber(v[3]) or 0 })

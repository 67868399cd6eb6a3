-- audit_append: appends one entry to the audit log, which is capped near its maximum length.
--
-- KEYS[1]  the audit stream (P audit)
-- ARGV[1]  key prefix
-- ARGV[2]  now (ms)
-- ARGV[3]  approximate maximum number of entries kept (XADD MAXLEN ~)
-- ARGV[4+] field, value pairs (principal, key, action, job, outcome, status, details)
-- Returns JSON: {id=stream entry id}
local fields = { 'at', ARGV[2] }
for i = 4, #ARGV do fields[#fields + 1] = ARGV[i] end
local id = redis.call('XADD', KEYS[1], 'MAXLEN', '~', tonumber(ARGV[3]), '*', unpack(fields))
return cjson.encode({ id = id })

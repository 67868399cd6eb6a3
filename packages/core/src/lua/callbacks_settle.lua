-- callbacks_settle: callbacks were sent (or handed to QStash, which retries them itself): their
-- outbox entries go. Settling an entry already settled or dropped does nothing.
--
-- KEYS: none (keys are built from the prefix)
-- ARGV[1]  key prefix
-- ARGV[2]  now (ms)
-- ARGV[3+] outbox entry ids (as callbacks_take returned them)
-- Returns JSON: {settled=number of entries removed}
-- @include keys
local ids = {}
for i = 3, #ARGV do ids[#ids + 1] = ARGV[i] end
if #ids == 0 then return cjson.encode({ settled = 0 }) end
redis.call('XACK', K_CALLBACKS, CALLBACK_GROUP, unpack(ids))
return cjson.encode({ settled = redis.call('XDEL', K_CALLBACKS, unpack(ids)) })

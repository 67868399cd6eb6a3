-- metrics_settle: ends a publisher's lease on the metrics outbox. After a successful send the
-- outbox is cleared (its counts are published); after a failed one it is kept and the lease is
-- dropped, so the next run (of any publisher) publishes the counts together with newer ones.
-- A publisher whose lease was taken over settles nothing.
--
-- KEYS: none (keys are built from the prefix)
-- ARGV[1]  key prefix
-- ARGV[2]  now (ms)
-- ARGV[3]  lease token given to metrics_take
-- ARGV[4]  "1" if the counts were published, "0" if the send failed
-- Returns JSON: {settled=bool}
-- @include keys
if redis.call('HGET', K_METRICS_OUTBOX, 'token') ~= ARGV[3] then
  return cjson.encode({ settled = false })
end
if ARGV[4] == '1' then
  redis.call('DEL', K_METRICS_OUTBOX)
else
  redis.call('HSET', K_METRICS_OUTBOX, 'token', '', 'lease_until', 0)
end
return cjson.encode({ settled = true })

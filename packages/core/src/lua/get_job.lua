-- get_job: the whole job record and its remaining TTL.
--
-- KEYS[1] the job's key
-- Returns JSON: {fields=[k1, v1, ...], pttl} (fields empty when the job does not exist)
return cjson.encode({ fields = redis.call('HGETALL', KEYS[1]), pttl = redis.call('PTTL', KEYS[1]) })

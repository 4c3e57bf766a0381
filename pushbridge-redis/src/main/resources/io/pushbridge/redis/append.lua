-- ARGV[4] max pending, ARGV[5] message id, ARGV[6] stored message. Returns 0 appended, 1 overflowed.
local max, id, value = tonumber(ARGV[4]), ARGV[5], ARGV[6]
alive()
if connections() <= 0 and not redis.call('HGET', meta, 'exp') then
  start_ttl()
end
local outcome = 0
if redis.call('HEXISTS', msgs, id) == 1 then
  -- a retried append keeps its place
  redis.call('HSET', msgs, id, value)
else
  if redis.call('ZCARD', ids) >= max then
    redis.call('DEL', ids, msgs)
    redis.call('HSET', meta, 'rs', '1')
    outcome = 1
  end
  local seq = redis.call('HINCRBY', meta, 'seq', 1)
  redis.call('ZADD', ids, seq, id)
  redis.call('HSET', msgs, id, value)
end
settle()
return outcome

-- ARGV[5] max pending, ARGV[6] message id, ARGV[7] stored message. Returns 0 appended, 1 overflowed.
local max, id, value = tonumber(ARGV[5]), ARGV[6], ARGV[7]
alive()
inherit()
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
    mark('o')
    outcome = 1
  end
  local seq = redis.call('HINCRBY', meta, 'seq', 1)
  redis.call('ZADD', ids, seq, id)
  redis.call('HSET', msgs, id, value)
end
settle()
return outcome

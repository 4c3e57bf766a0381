-- ARGV[5] max pending, ARGV[6] message id, ARGV[7] stored message. Returns 0 appended, 1 overflowed.
local max, id, value = tonumber(ARGV[5]), ARGV[6], ARGV[7]

-- Appends to a live queue; answers the outcome.
local function add()
  if redis.call('HSETNX', msgs, id, value) == 0 then
    -- a retried append keeps its place
    redis.call('HSET', msgs, id, value)
    return 0
  end
  local outcome = 0
  if redis.call('ZCARD', ids) >= max then
    -- full before this message: the queue is cleared and marked, the new message kept
    redis.call('DEL', ids, msgs)
    mark('o')
    redis.call('HSET', msgs, id, value)
    outcome = 1
  end
  local seq = redis.call('HINCRBY', meta, 'seq', 1)
  redis.call('ZADD', ids, seq, id)
  return outcome
end

-- The common case, read at once: the user is connected, so the queue exists, has no deadline and
-- no lost marker to inherit, and none of alive(), inherit(), start_ttl() has anything to do; what
-- settle() does for such a queue is the last line.
local m = redis.call('HMGET', meta, 'n', 'exp')
if tonumber(m[1] or '0') > 0 and not m[2] then
  local outcome = add()
  redis.call('DEL', lost_key)
  return outcome
end

alive()
inherit()
if connections() <= 0 and not redis.call('HGET', meta, 'exp') then
  start_ttl()
end
local outcome = add()
settle()
return outcome

-- ARGV[5] message id. Returns 0 not found, 1 removed, 2 resync (queue cleared).
local id = ARGV[5]
-- The common case, read at once: the user is connected, so the queue is alive and settle() has
-- nothing to do but drop a lost marker (which such a queue does not have).
local m = redis.call('HMGET', meta, 'n', 'exp')
local connected = tonumber(m[1] or '0') > 0 and not m[2]
if not connected and not alive() then return 0 end
local value = redis.call('HGET', msgs, id)
if not value then return 0 end
local event, checked = header(value)
if checked then
  local rank = redis.call('ZRANK', ids, id)
  if rank and rank > 0 then
    local earlier = redis.call('ZRANGE', ids, 0, rank - 1)
    local vals = values(earlier, 1, #earlier)
    for i = 1, #vals do
      if vals[i] and header(vals[i]) == event then
        redis.call('DEL', ids, msgs)
        settle()
        return 2
      end
    end
  end
end
redis.call('ZREM', ids, id)
redis.call('HDEL', msgs, id)
if connected then
  redis.call('DEL', lost_key)
else
  settle()
end
return 1

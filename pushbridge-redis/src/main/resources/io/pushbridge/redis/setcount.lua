-- ARGV[5] node id, ARGV[6] the connections that node holds on this queue, as the node knows them.
-- Sets its count (and the user's total) to that, whatever earlier failed or timed-out calls left:
-- the repair of a count that drifted. Returns the count set.
alive()
local field = 'c:' .. ARGV[5]
local held = tonumber(redis.call('HGET', meta, field) or '0')
local want = tonumber(ARGV[6])
if held == want then return want end
inherit()
if want > 0 then
  redis.call('HSET', meta, field, want)
else
  redis.call('HDEL', meta, field)
end
local n = connections() + want - held
if n > 0 then
  redis.call('HSET', meta, 'n', n)
  redis.call('HDEL', meta, 'exp')
  redis.call('PERSIST', meta)
  redis.call('PERSIST', ids)
  redis.call('PERSIST', msgs)
else
  redis.call('HDEL', meta, 'n')
  if not redis.call('HGET', meta, 'exp') then start_ttl() end
end
settle()
return want

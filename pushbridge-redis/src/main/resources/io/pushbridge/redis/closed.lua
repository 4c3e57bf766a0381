-- ARGV[5] node id, ARGV[6] how many connections of that node closed ('all' for every one, when
-- the node is gone). After the user's last connection anywhere, the ttl starts.
-- Returns the connections that node still holds on this queue.
if not alive() then return 0 end
local field = 'c:' .. ARGV[5]
local held = tonumber(redis.call('HGET', meta, field) or '0')
if held <= 0 then return 0 end
local closing = held
if ARGV[6] ~= 'all' then closing = math.min(held, tonumber(ARGV[6])) end
held = held - closing
if held > 0 then
  redis.call('HSET', meta, field, held)
else
  redis.call('HDEL', meta, field)
end
local n = connections() - closing
if n > 0 then
  redis.call('HSET', meta, 'n', n)
else
  redis.call('HDEL', meta, 'n')
  start_ttl()
end
settle()
return held

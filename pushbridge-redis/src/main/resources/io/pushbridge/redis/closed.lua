-- ARGV[4] node id, ARGV[5] how many connections of that node closed ('all' for every one, when
-- the node is gone). After the user's last connection anywhere, the ttl starts.
-- Returns the connections that node still holds on this queue.
if not alive() then return 0 end
local field = 'c:' .. ARGV[4]
local held = tonumber(redis.call('HGET', meta, field) or '0')
if held <= 0 then return 0 end
local closing = held
if ARGV[5] ~= 'all' then closing = math.min(held, tonumber(ARGV[5])) end
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

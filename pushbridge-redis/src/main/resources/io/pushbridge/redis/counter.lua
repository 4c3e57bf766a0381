-- A hash field used as a counter that disappears at zero. KEYS[1] hash, ARGV[1] field, ARGV[2] delta.
local v = redis.call('HINCRBY', KEYS[1], ARGV[1], tonumber(ARGV[2]))
if v <= 0 then redis.call('HDEL', KEYS[1], ARGV[1]) end
return v

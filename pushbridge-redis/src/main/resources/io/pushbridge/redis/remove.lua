-- ARGV[5..] message ids. Returns how many were there.
if not alive() then return 0 end
local n = 0
for i = 5, #ARGV do
  if redis.call('HDEL', msgs, ARGV[i]) == 1 then
    redis.call('ZREM', ids, ARGV[i])
    n = n + 1
  end
end
settle()
return n

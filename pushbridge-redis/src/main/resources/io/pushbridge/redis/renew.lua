-- Renews KEYS[1] only while it holds ARGV[1] (a lease of this node): PEXPIRE to ARGV[2] ms.
-- Returns 1 if renewed; 0, changing nothing, when it expired or another node holds it.
if redis.call('GET', KEYS[1]) == ARGV[1] then
  return redis.call('PEXPIRE', KEYS[1], ARGV[2])
end
return 0

-- A lease held by one node: KEYS[1] the lease, ARGV[1] the node id, ARGV[2] its time to live (ms).
-- Takes a free lease or renews this node's own; returns 0, changing nothing, when another node holds it.
local holder = redis.call('GET', KEYS[1])
if holder and holder ~= ARGV[1] then
  return 0
end
redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
return 1

-- Claims the pending entries of a partition of the upstream streams for this node, only while it
-- leases the partition. KEYS[1] the lease, KEYS[2] the stream (one hash tag); ARGV[1] the node id
-- (lease holder and consumer name), ARGV[2] the group, ARGV[3] the id to start at, ARGV[4] the count.
-- Returns {0} when the lease is not this node's, else {1, the XAUTOCLAIM ... JUSTID reply}: the next
-- start id, the ids claimed, and the ids of entries no longer in the stream (trimmed; Redis removed
-- them from the pending entries list). JUSTID leaves the entries' delivery counts as they were.
if redis.call('GET', KEYS[1]) ~= ARGV[1] then
  return {0}
end
return {1, redis.call('XAUTOCLAIM', KEYS[2], ARGV[2], ARGV[1], 0, ARGV[3], 'COUNT', ARGV[4], 'JUSTID')}

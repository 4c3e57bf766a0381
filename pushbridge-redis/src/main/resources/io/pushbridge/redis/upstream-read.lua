-- Reads a partition of the upstream streams only while this node leases it, so that a node that
-- lost its lease cannot take new records into its pending list after the next owner claimed it.
-- KEYS[1] the lease, KEYS[2] the stream (one hash tag); ARGV[1] the node id (lease holder and
-- consumer name), ARGV[2] the group, ARGV[3] the count, ARGV[4] the id to read after ('>': new ones).
-- Returns {0} when the lease is not this node's, else {1, the XREADGROUP reply (nil when empty)}.
if redis.call('GET', KEYS[1]) ~= ARGV[1] then
  return {0}
end
return {1, redis.call('XREADGROUP', 'GROUP', ARGV[2], ARGV[1], 'COUNT', ARGV[3], 'STREAMS', KEYS[2], ARGV[4])}

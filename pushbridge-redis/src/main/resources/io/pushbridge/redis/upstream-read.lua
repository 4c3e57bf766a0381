-- Reads a partition of the upstream streams only while this node leases it, so that a node that
-- lost its lease cannot take new records into its pending list after the next owner claimed it.
-- KEYS[1] the lease, KEYS[2] the stream (one hash tag); ARGV[1] the node id (lease holder and
-- consumer name), ARGV[2] the group, ARGV[3] the count, ARGV[4] the id to read after ('>': new ones).
-- Returns {0} when the lease is not this node's, else {1, the XREADGROUP reply (nil when empty)}, and
-- for a read of this node's pending entries (ARGV[4] not '>') a third element: how many times the
-- first of them had been delivered before this read (from XPENDING; the read adds one).
if redis.call('GET', KEYS[1]) ~= ARGV[1] then
  return {0}
end
local before = 0
if ARGV[4] ~= '>' then
  local start = '-'
  if ARGV[4] ~= '0' and ARGV[4] ~= '0-0' then
    start = '(' .. ARGV[4]
  end
  local pending = redis.call('XPENDING', KEYS[2], ARGV[2], start, '+', 1, ARGV[1])
  if pending[1] then
    before = pending[1][4]
  end
end
return {1, redis.call('XREADGROUP', 'GROUP', ARGV[2], ARGV[1], 'COUNT', ARGV[3], 'STREAMS', KEYS[2], ARGV[4]), before}

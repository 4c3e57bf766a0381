-- ARGV[4] node id: one more connection of this user on that node; the queue stops expiring.
alive()
redis.call('HINCRBY', meta, 'n', 1)
redis.call('HINCRBY', meta, 'c:' .. ARGV[4], 1)
redis.call('HDEL', meta, 'exp')
redis.call('PERSIST', meta)
redis.call('PERSIST', ids)
redis.call('PERSIST', msgs)
settle()
return 1

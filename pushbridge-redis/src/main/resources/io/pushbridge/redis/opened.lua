-- ARGV[5] node id: one more connection of this user on that node; the queue stops expiring (its
-- lost marker goes with the deadline; a remembered loss becomes its resync mark).
alive()
inherit()
redis.call('HINCRBY', meta, 'n', 1)
redis.call('HINCRBY', meta, 'c:' .. ARGV[5], 1)
redis.call('HDEL', meta, 'exp')
redis.call('PERSIST', meta)
redis.call('PERSIST', ids)
redis.call('PERSIST', msgs)
settle()
return 1

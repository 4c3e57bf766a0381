if not alive() then return 0 end
redis.call('DEL', ids, msgs)
redis.call('HDEL', meta, 'rs')
settle()
return 1

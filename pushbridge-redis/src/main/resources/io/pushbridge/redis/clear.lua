-- Drops the messages, the resync mark and a remembered loss; returns how many messages it dropped.
local live = alive()
redis.call('DEL', lost_key)
if not live then return 0 end
local dropped = redis.call('ZCARD', ids)
redis.call('DEL', ids, msgs)
redis.call('HDEL', meta, 'rs', 'rc')
settle()
return dropped

-- Drops the messages, the resync mark and a remembered loss.
local live = alive()
redis.call('DEL', lost_key)
if not live then return 0 end
redis.call('DEL', ids, msgs)
redis.call('HDEL', meta, 'rs', 'rc')
settle()
return 1

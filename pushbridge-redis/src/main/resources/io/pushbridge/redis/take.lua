-- Returns { resync mark (0 none, 1 overflow, 2 expiry), stored messages oldest first... }; clears
-- the mark, and the lost marker of a queue that expired holding messages.
local live = alive()
if lost() then
  redis.call('DEL', lost_key)
  return {2}
end
if not live then return {0} end
local rs = 0
local m = redis.call('HMGET', meta, 'rs', 'rc')
if m[1] == '1' then
  rs = 1
  if m[2] == 'e' then rs = 2 end
  redis.call('HDEL', meta, 'rs', 'rc')
end
local list = redis.call('ZRANGE', ids, 0, -1)
local out = {rs}
if #list > 0 then
  local vals = values(list, 1, #list)
  for i = 1, #vals do
    if vals[i] then out[#out + 1] = vals[i] end
  end
end
settle()
return out

-- Returns { resync mark (0/1), stored messages oldest first... }; clears the mark.
if not alive() then return {0} end
local rs = 0
if redis.call('HGET', meta, 'rs') == '1' then
  rs = 1
  redis.call('HDEL', meta, 'rs')
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

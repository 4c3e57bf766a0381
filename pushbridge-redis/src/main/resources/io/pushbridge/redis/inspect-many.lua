-- Reads many queues without changing them, for the site totals on a standalone or Sentinel Redis
-- (on Redis Cluster the queues of one batch live in other slots: each is read with inspect.lua).
-- KEYS: (meta hash, ids zset, messages hash) of each queue. ARGV[1] now (epoch ms), ARGV[2] the
-- CBOR items this call may skip in all (it stops after the queue that went past them, and the
-- caller asks again for the rest), ARGV[3] the most items of one message.
-- Returns { queues read, then per queue read: pending messages (-1 when its keys could not be read:
-- a key of another type, for example), the oldest message's createdAt as CBOR integer bytes (nil
-- when empty, malformed, or past the limit of one message) }; an expired queue is reported empty.
-- One queue that cannot be read is reported as such and does not fail the others.
local now, budget, limit = tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[3])
local out = {0}
local used = 0

local function read(meta, ids, msgs)
  local exp = redis.call('HGET', meta, 'exp')
  if exp and now >= (tonumber(exp) or 0) then return 0, false end
  local depth = redis.call('ZCARD', ids)
  local at = false
  if depth > 0 then
    local value = redis.call('HGET', msgs, redis.call('ZRANGE', ids, 0, 0)[1])
    if value then
      local ok, pos = pcall(created_at, value, limit)
      used = used + steps
      if ok then at = string.sub(value, pos) end
    end
  end
  return depth, at
end

for q = 1, #KEYS, 3 do
  if used >= budget then break end
  local ok, depth, at = pcall(read, KEYS[q], KEYS[q + 1], KEYS[q + 2])
  if not ok then depth, at = -1, false end
  out[1] = out[1] + 1
  out[#out + 1] = depth
  out[#out + 1] = at
end
return out

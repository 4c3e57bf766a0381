-- Reads one queue without changing it (the queue inspector, and each queue of a site's totals):
-- no expiry is set or removed, an expired queue is reported empty but left to the scripts that
-- drop it. Returns { pending messages, open connections, resync mark (0/1), the oldest message's
-- createdAt as CBOR integer bytes (nil when empty), and with ARGV[5] 'whole' the oldest stored message
-- itself when its body could not be walked here (malformed, or more than 10,000 CBOR items) }; or
-- { -1, 0, 0 } when the queue's keys cannot be read (a key of another type, for example).
-- A queue that is gone (or past its deadline) but remembered as lost shows only its resync mark.

local function read()
  local exp = redis.call('HGET', meta, 'exp')
  if (exp and now >= (tonumber(exp) or 0)) or redis.call('EXISTS', meta) == 0 then
    local forget = redis.call('GET', lost_key)
    if forget and now < (tonumber(forget) or 0) then return {0, 0, 1} end
    return {0, 0, 0}
  end
  local m = redis.call('HMGET', meta, 'n', 'rs')
  local depth = redis.call('ZCARD', ids)
  local out = {depth, tonumber(m[1] or '0') or 0, 0}
  if m[2] == '1' then out[3] = 1 end
  if depth > 0 then
    local value = redis.call('HGET', msgs, redis.call('ZRANGE', ids, 0, 0)[1])
    if value then
      local ok, pos = pcall(created_at, value, 10000)
      if ok then
        out[4] = string.sub(value, pos)
      elseif ARGV[5] == 'whole' then
        out[4] = false
        out[5] = value
      end
    end
  end
  return out
end

local ok, out = pcall(read)
if not ok then return {-1, 0, 0} end
return out

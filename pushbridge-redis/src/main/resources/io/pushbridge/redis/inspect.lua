-- Reads one queue without changing it (the queue inspector, and each queue of a site's totals):
-- no expiry is set or removed, an expired queue is reported empty but left to the scripts that
-- drop it. Returns { pending messages, open connections, resync mark (0/1), the oldest message's
-- createdAt as CBOR integer bytes (nil when empty), the oldest stored message whole when its body
-- could not be walked here (nil otherwise) }.

-- Skips one CBOR item that starts at pos without decoding it; returns the position after it.
-- Strings are skipped by their length, so the cost is the number of items, not of bytes.
local function skip(s, pos)
  local b = string.byte(s, pos)
  local major, info = math.floor(b / 32), b % 32
  pos = pos + 1
  local len
  if info < 24 then
    len = info
  elseif info < 28 then
    local size = 2 ^ (info - 24)
    len = 0
    for i = 0, size - 1 do len = len * 256 + string.byte(s, pos + i) end
    pos = pos + size
  elseif info == 31 and major >= 2 and major <= 5 then
    -- indefinite length: items (or string chunks) up to the break byte
    while string.byte(s, pos) ~= 255 do pos = skip(s, pos) end
    return pos + 1
  else
    error('malformed CBOR head')
  end
  if major == 2 or major == 3 then
    return pos + len
  elseif major == 4 then
    for i = 1, len do pos = skip(s, pos) end
  elseif major == 5 then
    for i = 1, 2 * len do pos = skip(s, pos) end
  elseif major == 6 then
    pos = skip(s, pos)
  end
  return pos
end

-- Where the createdAt of a stored message starts: its body is CBOR [id, args, createdAt].
local function created_at(value)
  local pos = string.find(value, '\n', 1, true) + 1
  local head = string.byte(value, pos)
  if head ~= 0x83 and head ~= 0x9f then error('body is not an array of three') end
  pos = skip(value, skip(value, pos + 1))
  if pos > #value then error('truncated body') end
  return pos
end

local exp = redis.call('HGET', meta, 'exp')
if exp and now >= tonumber(exp) then return {0, 0, 0} end
local m = redis.call('HMGET', meta, 'n', 'rs')
local depth = redis.call('ZCARD', ids)
local out = {depth, tonumber(m[1] or '0'), 0}
if m[2] == '1' then out[3] = 1 end
if depth > 0 then
  local value = redis.call('HGET', msgs, redis.call('ZRANGE', ids, 0, 0)[1])
  if value then
    local ok, pos = pcall(created_at, value)
    if ok then
      out[4] = string.sub(value, pos)
    else
      out[4] = false
      out[5] = value
    end
  end
end
return out

-- Reading a stored message's creation time without decoding its arguments (inspect, inspect-many).
-- A stored message is '<flag><event>\n<CBOR [id, args, createdAt]>'.

-- The items skipped by the last created_at call, and the most it may skip: the work of a call is
-- bounded, whatever a message holds (an argument list of a million numbers is a million items).
local steps, max_steps = 0, 0

-- Skips one CBOR item that starts at pos without decoding it; returns the position after it.
-- Strings are skipped by their length, so the cost is the number of items, not of bytes.
local function skip(s, pos)
  steps = steps + 1
  if steps > max_steps then error('more than ' .. max_steps .. ' CBOR items') end
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

-- Where the createdAt of a stored message starts (its body is CBOR [id, args, createdAt]), skipping
-- at most 'limit' items; fails on a malformed body or beyond the limit.
local function created_at(value, limit)
  steps, max_steps = 0, limit
  local pos = string.find(value, '\n', 1, true) + 1
  local head = string.byte(value, pos)
  if head ~= 0x83 and head ~= 0x9f then error('body is not an array of three') end
  pos = skip(value, skip(value, pos + 1))
  if pos > #value then error('truncated body') end
  return pos
end

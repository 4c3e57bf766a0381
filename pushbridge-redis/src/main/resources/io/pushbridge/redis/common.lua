-- Shared prelude of the queue scripts. KEYS: meta hash, ids zset, messages hash (one hash tag).
-- ARGV[1] now (epoch ms, the gateway's clock), ARGV[2] ttl ms (0 = keep forever),
-- ARGV[3] grace ms added to Redis' own key expiry so that the deadline in 'exp' decides.
local meta, ids, msgs = KEYS[1], KEYS[2], KEYS[3]
local now = tonumber(ARGV[1])
local ttl = tonumber(ARGV[2])
local grace = tonumber(ARGV[3])

-- A queue past its deadline is dropped and counts as absent.
local function alive()
  local exp = redis.call('HGET', meta, 'exp')
  if exp and now >= tonumber(exp) then
    redis.call('DEL', meta, ids, msgs)
    return false
  end
  return true
end

local function connections()
  return tonumber(redis.call('HGET', meta, 'n') or '0')
end

local function start_ttl()
  if ttl > 0 then
    redis.call('HSET', meta, 'exp', now + ttl)
  else
    redis.call('HDEL', meta, 'exp')
  end
end

-- After a change: drop a queue with nothing worth keeping, and give every key of a queue with a
-- deadline Redis' own expiry (so that abandoned queues free their memory). Keys of a queue without
-- a deadline carry no expiry: the only script that removes a deadline (opened) persists them.
local function settle()
  local m = redis.call('HMGET', meta, 'rs', 'n', 'exp')
  if m[1] ~= '1' and tonumber(m[2] or '0') <= 0 and redis.call('EXISTS', ids) == 0 then
    redis.call('DEL', meta, ids, msgs)
    return
  end
  if m[3] then
    local ms = tonumber(m[3]) - now + grace
    if ms < 1 then ms = 1 end
    redis.call('PEXPIRE', meta, ms)
    redis.call('PEXPIRE', ids, ms)
    redis.call('PEXPIRE', msgs, ms)
  end
end

-- The event of a stored message ('<flag><event>\n<body>'), and whether it asks for the resync check.
local function header(value)
  local nl = string.find(value, '\n', 1, true)
  return string.sub(value, 2, nl - 1), string.sub(value, 1, 1) == 'r'
end

-- HMGET in chunks (Lua's unpack has a stack limit).
local function values(list, from, to)
  local out = {}
  local i = from
  while i <= to do
    local j = math.min(i + 999, to)
    local chunk = redis.call('HMGET', msgs, unpack(list, i, j))
    for k = 1, #chunk do out[#out + 1] = chunk[k] end
    i = j + 1
  end
  return out
end

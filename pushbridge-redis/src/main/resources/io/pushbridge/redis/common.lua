-- Shared prelude of the queue scripts. KEYS: meta hash, ids zset, messages hash, lost marker
-- (one hash tag). ARGV[1] now (epoch ms, the gateway's clock), ARGV[2] ttl ms (0 = keep forever),
-- ARGV[3] grace ms added to Redis' own key expiry so that the deadline in 'exp' decides,
-- ARGV[4] resync memory ms (0 = remember no expired queue).
--
-- The resync mark is 'rs' = '1' in the meta hash, with 'rc' = 'e' when an expiry caused it
-- (without 'rc' it is an overflow's, as scripts of earlier versions wrote it).
--
-- The lost marker is a string: the time (epoch ms, the gateway's clock) until which the user of a
-- queue that expired holding messages (or a resync mark) is told to resync. It is written, with the
-- queue's deadline + resync memory, whenever a queue with a deadline is kept (so it is there when
-- Redis' own expiry drops the queue, which no script sees); deleted when the queue gets a
-- connection or nothing worth keeping. It means a loss only once the queue is gone.
local meta, ids, msgs, lost_key = KEYS[1], KEYS[2], KEYS[3], KEYS[4]
local now = tonumber(ARGV[1])
local ttl = tonumber(ARGV[2])
local grace = tonumber(ARGV[3])
local memory = tonumber(ARGV[4])

-- A queue past its deadline is dropped and counts as absent.
local function alive()
  local exp = redis.call('HGET', meta, 'exp')
  if exp and now >= tonumber(exp) then
    redis.call('DEL', meta, ids, msgs)
    return false
  end
  return true
end

-- Whether the user of an absent queue lost messages to its expiry and is still to be told: the
-- queue is gone (call alive() first) and its lost marker is there and not yet forgotten.
local function lost()
  if redis.call('EXISTS', meta) == 1 then return false end
  local forget = redis.call('GET', lost_key)
  if not forget then return false end
  if now >= tonumber(forget) then
    redis.call('DEL', lost_key)
    return false
  end
  return true
end

-- Marks the queue for resync, keeping a mark already there (one resync covers both causes).
local function mark(cause)
  if redis.call('HSETNX', meta, 'rs', '1') == 1 then
    if cause == 'e' then
      redis.call('HSET', meta, 'rc', 'e')
    else
      redis.call('HDEL', meta, 'rc')
    end
  end
end

-- For scripts that may make a queue again: a remembered loss becomes the new queue's resync mark.
local function inherit()
  if lost() then
    mark('e')
    redis.call('DEL', lost_key)
  end
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
-- a deadline carry no expiry: the scripts that remove a deadline (opened, setcount) persist them.
-- A kept queue with a deadline holds messages or a resync mark (a deadline means no connection):
-- its lost marker is written for the day it expires; any other queue has none.
local function settle()
  local m = redis.call('HMGET', meta, 'rs', 'n', 'exp')
  if m[1] ~= '1' and tonumber(m[2] or '0') <= 0 and redis.call('EXISTS', ids) == 0 then
    if redis.call('DEL', meta, ids, msgs) > 0 then
      -- emptied, not expired: nothing lost (an absent queue's marker may be a loss: left alone)
      redis.call('DEL', lost_key)
    end
    return
  end
  if m[3] then
    local ms = tonumber(m[3]) - now + grace
    if ms < 1 then ms = 1 end
    redis.call('PEXPIRE', meta, ms)
    redis.call('PEXPIRE', ids, ms)
    redis.call('PEXPIRE', msgs, ms)
    if memory > 0 then
      local forget = tonumber(m[3]) + memory
      local keep = forget - now + grace
      if keep < 1 then keep = 1 end
      redis.call('SET', lost_key, forget, 'PX', keep)
    else
      redis.call('DEL', lost_key)
    end
  else
    redis.call('DEL', lost_key)
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

-- Returns { pending messages, oldest createdAt is not known here: 0, open connections }.
if not alive() then return {0, 0} end
return {redis.call('ZCARD', ids), connections()}

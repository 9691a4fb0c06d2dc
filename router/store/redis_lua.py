"""The Lua scripts of `RedisStore`: each one is a single atomic step on the Redis server.

Money is integer micro-dollars. Counters expire relative to the caller's clock (`now`), never
Redis's, so a store driven with other times (tests, a skewed host) keeps them as long; a TTL is
at least MIN_TTL seconds. Lua numbers are doubles, exact below 2**53 micro-dollars (nine
billion dollars); every number written back to Redis goes through `%.0f`, because Redis would
otherwise format a large number in exponent notation. Every key a script touches is passed in
KEYS (computed by the caller), so the scripts run unchanged on Redis Cluster when all their keys
share one hash tag.
"""

from __future__ import annotations

# KEYS: reservation hash, lease zset, then two counters (requests, tokens) per rate rule, then
#       two counters (settled, in flight) per counted period per budget, the current one last.
# ARGV[1]: JSON {now, amount, need, tokens, rates: [[rpm, tpm, ttl]], budgets:
#          [[hard (0|1), limit, periods, retain_until (-1: keep)]]}; ARGV[2]: lease end;
#          ARGV[3]: request id.
# Returns {'ok', granted} | {'dup'} | {'rpm'|'tpm', rule index, used} |
#         {'budget', budget index, settled, in flight}.
RESERVE = """
local function n(x) return string.format('%.0f', x) end
local p = cjson.decode(ARGV[1])
local function keep(key, retain)
  if retain >= 0 then redis.call('EXPIRE', key, n(math.max(3600, retain - p.now))) end
end
if redis.call('EXISTS', KEYS[1]) == 1 then return {'dup'} end
local k = 3
for i, r in ipairs(p.rates) do
  local used = tonumber(redis.call('GET', KEYS[k]) or '0')
  local used_tokens = tonumber(redis.call('GET', KEYS[k + 1]) or '0')
  if r[1] >= 0 and used + 1 > r[1] then return {'rpm', i, used} end
  if r[2] >= 0 and used_tokens + p.tokens > r[2] then return {'tpm', i, used_tokens} end
  k = k + 2
end
local grant = p.amount
for i, b in ipairs(p.budgets) do
  local settled, flying = 0, 0
  for j = 1, b[3] do
    settled = settled + tonumber(redis.call('GET', KEYS[k]) or '0')
    flying = flying + tonumber(redis.call('GET', KEYS[k + 1]) or '0')
    k = k + 2
  end
  local room = b[2] - settled - flying
  if b[1] == 1 and room < p.amount then
    if room < p.need then return {'budget', i, settled, flying} end
    if room < grant then grant = room end
  end
end
k = 3
for i, r in ipairs(p.rates) do
  redis.call('INCR', KEYS[k])
  redis.call('INCRBY', KEYS[k + 1], n(p.tokens))
  redis.call('EXPIRE', KEYS[k], n(r[3]))
  redis.call('EXPIRE', KEYS[k + 1], n(r[3]))
  k = k + 2
end
local entries = {}
for i, b in ipairs(p.budgets) do
  k = k + 2 * b[3]
  local settled_key, flying_key = KEYS[k - 2], KEYS[k - 1]
  redis.call('INCRBY', flying_key, n(grant))
  keep(settled_key, b[4])
  keep(flying_key, b[4])
  entries[i] = {settled_key, flying_key, n(grant), n(b[4])}
end
if #entries > 0 then
  redis.call('HSET', KEYS[1], 'lease', ARGV[2], 'entries', cjson.encode(entries))
  redis.call('ZADD', KEYS[2], ARGV[2], ARGV[3])
end
return {'ok', n(grant)}
"""

# KEYS: reservation hash, lease zset, then (settled, in flight) per entry, as the entries say.
# ARGV[1]: actual micro-dollars, or '' to settle at the reserved amount; ARGV[2]: request id;
# ARGV[3]: now.
# Returns 1 when it settled, 0 when there was nothing to settle.
SETTLE = """
local function keep(key, retain)
  if retain >= 0 then
    redis.call('EXPIRE', key, string.format('%.0f', math.max(3600, retain - tonumber(ARGV[3]))))
  end
end
local raw = redis.call('HGET', KEYS[1], 'entries')
if not raw then
  redis.call('ZREM', KEYS[2], ARGV[2])
  return 0
end
local entries = cjson.decode(raw)
for i, e in ipairs(entries) do
  local settled_key, flying_key = KEYS[1 + 2 * i], KEYS[2 + 2 * i]
  if settled_key ~= e[1] or flying_key ~= e[2] then
    return redis.error_reply('settle: keys do not match the reservation')
  end
  local spent = ARGV[1]
  if spent == '' then spent = e[3] end
  redis.call('DECRBY', flying_key, e[3])
  redis.call('INCRBY', settled_key, spent)
  keep(settled_key, tonumber(e[4]))
  keep(flying_key, tonumber(e[4]))
end
redis.call('DEL', KEYS[1])
redis.call('ZREM', KEYS[2], ARGV[2])
return 1
"""

# KEYS: record hash, time index, then one team index per record.
# ARGV: request id, time, JSON record, for each record in order.
# Returns how many records were new.
APPEND_LEDGER = """
local added = 0
for i = 1, #KEYS - 2 do
  local id, ts, data = ARGV[3 * i - 2], ARGV[3 * i - 1], ARGV[3 * i]
  if redis.call('HSETNX', KEYS[1], id, data) == 1 then
    redis.call('ZADD', KEYS[2], ts, id)
    redis.call('ZADD', KEYS[2 + i], ts, id)
    added = added + 1
  end
end
return added
"""

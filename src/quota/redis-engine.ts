/**
 * The quota counters of Node and Deno replicas, in the Redis of `KEYLINE_REDIS_URL`: one Lua
 * script per request (atomic on the server, so N requests pass across every replica and the
 * N+1th is refused), one more after a call that used tokens. Only the server entries load it.
 */
import { Redis } from 'ioredis'
import {
  type ClientLimits,
  type ClientUsage,
  type CounterEngine,
  type Limit,
  REFUSED_WINDOW,
  type Take,
  windowEnd,
  windowIndex,
} from './limits.ts'

/**
 * KEYS: the client's counters, then its refusal counter. ARGV: per counter its limit, its TTL
 * (ms) and 1 for a request limit (0: tokens). Refuses with the index of the first limit that is
 * full, else counts the request in every request limit; answers the index and every count.
 */
const TAKE = `local n = #KEYS - 1
local counts = {}
local refused = 0
for i = 1, n do
  counts[i] = tonumber(redis.call('GET', KEYS[i]) or '0')
  local limit = tonumber(ARGV[i * 3 - 2])
  if refused == 0 and ((ARGV[i * 3] == '1' and counts[i] + 1 > limit) or (ARGV[i * 3] == '0' and counts[i] >= limit)) then refused = i end
end
if refused > 0 then
  if redis.call('INCR', KEYS[n + 1]) == 1 then redis.call('PEXPIRE', KEYS[n + 1], ARGV[n * 3 + 2]) end
else
  for i = 1, n do
    if ARGV[i * 3] == '1' then
      counts[i] = redis.call('INCR', KEYS[i])
      if counts[i] == 1 then redis.call('PEXPIRE', KEYS[i], ARGV[i * 3 - 1]) end
    end
  end
end
table.insert(counts, 1, refused)
return counts`

/** KEYS: token counters; ARGV: the tokens, then each counter's TTL (ms). */
const CHARGE = `for i = 1, #KEYS do
  if redis.call('INCRBY', KEYS[i], ARGV[1]) == tonumber(ARGV[1]) then redis.call('PEXPIRE', KEYS[i], ARGV[i + 1]) end
end
return 0`

/** A Redis counter engine; `close()` ends its connection. */
export interface RedisEngine extends CounterEngine {
  /** Settles once the first connection is up (or given up). */
  ready(): Promise<void>
  close(): Promise<void>
}

/** The key of one counter: the client's name in braces keeps a client's keys on one slot. */
const keyOf = (client: string, limit: Limit, now: number): string =>
  `keyline:limits:{${client}}:${limit.key}:${windowIndex(limit, now)}`

/** How long a counter lives: its window, a second more for clock skew between replicas. */
const ttlOf = (limit: Limit, now: number): string => String(windowEnd(limit, now) - now + 1000)

/**
 * Counters in Redis at `url`, on a connection of their own: a command is sent at most once (no
 * retry after a reconnect, so a request's wait is bounded by the caller's budget, and one the
 * caller stopped waiting for either counted or never ran), commands issued while it connects
 * wait for it.
 */
export const redisEngine = (
  url: string,
  options: { onError?: (error: Error) => void } = {}
): RedisEngine => {
  const client = new Redis(url, {
    maxRetriesPerRequest: 0,
    commandTimeout: 2_000,
    retryStrategy: (times) => Math.min(times * 100, 1000),
  })
  client.on('error', options.onError ?? (() => undefined))
  const ready = new Promise<void>((resolve) => {
    client.once('ready', resolve)
    client.once('end', resolve)
  })
  const run = (script: string, keys: string[], args: string[]): Promise<unknown> =>
    client.eval(script, keys.length, ...keys, ...args)
  return {
    kind: 'redis',
    ready: () => ready,
    async take(limits: ClientLimits, now: number): Promise<Take> {
      const all = [...limits.limits, REFUSED_WINDOW]
      const keys = all.map((l) => keyOf(limits.name, l, now))
      const args = all.flatMap((l) => [String(l.limit), ttlOf(l, now), l.requests ? '1' : '0'])
      const [refused = 0, ...counts] = (await run(TAKE, keys, args)) as number[]
      return {
        refused: limits.limits[refused - 1]?.kind,
        counts: limits.limits.map((l, i) => ({
          kind: l.kind,
          limit: l.limit,
          used: Number(counts[i] ?? 0),
          resetAt: windowEnd(l, now),
        })),
      }
    },
    async charge(limits: ClientLimits, tokens: number, now: number): Promise<void> {
      const charged = limits.limits.filter((l) => !l.requests)
      if (charged.length === 0 || tokens <= 0) return
      const keys = charged.map((l) => keyOf(limits.name, l, now))
      await run(CHARGE, keys, [String(tokens), ...charged.map((l) => ttlOf(l, now))])
    },
    async usage(limits: ClientLimits, now: number): Promise<ClientUsage> {
      const all = [...limits.limits, REFUSED_WINDOW]
      const values = await client.mget(...all.map((l) => keyOf(limits.name, l, now)))
      return {
        counts: limits.limits.map((l, i) => ({
          kind: l.kind,
          limit: l.limit,
          used: Number(values[i] ?? 0),
          resetAt: windowEnd(l, now),
        })),
        refused: Number(values[all.length - 1] ?? 0),
      }
    },
    async close(): Promise<void> {
      await client.quit().catch(() => client.disconnect())
    },
  }
}

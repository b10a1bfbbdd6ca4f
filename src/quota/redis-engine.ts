/**
 * The quota counters of Node and Deno replicas, in the Redis of `KEYLINE_REDIS_URL`: one Lua
 * script per request (atomic on the server, so N requests pass across every replica and the
 * N+1th is refused), one more after a call that used tokens. Only the server entries load it.
 */
import { Redis } from 'ioredis'
import {
  type ClientLimits,
  type CounterEngine,
  countOf,
  type Limit,
  REFUSED,
  type Take,
  windowIndex,
} from './limits.ts'

/**
 * KEYS: the client's counters, then its refusal counter. ARGV: per key its limit, its TTL (ms)
 * and 1 for a request limit. Refuses with the index of the first limit used up and counts the
 * refusal, else counts the request in every request limit; answers the index and every count.
 */
const TAKE = `local n = #KEYS - 1
local counts = {}
local refused = 0
for i = 1, n + 1 do
  counts[i] = tonumber(redis.call('GET', KEYS[i]) or '0')
  if i <= n and refused == 0 and counts[i] >= tonumber(ARGV[i * 3 - 2]) then refused = i end
end
for i = 1, n + 1 do
  if (refused > 0 and i == n + 1) or (refused == 0 and i <= n and ARGV[i * 3] == '1') then
    counts[i] = redis.call('INCR', KEYS[i])
    if counts[i] == 1 then redis.call('PEXPIRE', KEYS[i], ARGV[i * 3 - 1]) end
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
  `keyline:limits:{${client}}:${limit.kind}:${windowIndex(limit, now)}`

/** How long a counter lives: its window, a second more for clock skew between replicas. */
const ttlOf = (limit: Limit, now: number): string =>
  String(countOf(limit, 0, now).resetAt - now + 1000)

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
      const all = [...limits.limits, REFUSED]
      const keys = all.map((l) => keyOf(limits.name, l, now))
      const args = all.flatMap((l) => [String(l.limit), ttlOf(l, now), l.requests ? '1' : '0'])
      const [refused = 0, ...counts] = (await run(TAKE, keys, args)) as number[]
      return {
        refused: limits.limits[refused - 1]?.kind as Take['refused'],
        counts: all.map((l, i) => countOf(l, Number(counts[i] ?? 0), now)),
      }
    },
    async charge(limits: ClientLimits, tokens: number, now: number): Promise<unknown> {
      const charged = limits.limits.filter((l) => !l.requests)
      if (charged.length === 0 || tokens <= 0) return
      const keys = charged.map((l) => keyOf(limits.name, l, now))
      return run(CHARGE, keys, [String(tokens), ...charged.map((l) => ttlOf(l, now))])
    },
    async usage(limits: ClientLimits, now: number): Promise<Take> {
      const all = [...limits.limits, REFUSED]
      const values = await client.mget(...all.map((l) => keyOf(limits.name, l, now)))
      return { counts: all.map((l, i) => countOf(l, Number(values[i] ?? 0), now)) }
    },
    async close(): Promise<void> {
      await client.quit().catch(() => client.disconnect())
    },
  }
}

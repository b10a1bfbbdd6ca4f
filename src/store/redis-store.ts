/**
 * The {@link SharedStore} of Node and Deno replicas: Redis, through `ioredis` (npm:ioredis on
 * Deno). Only the Node and Deno entries load it, so it stays out of the Worker bundle.
 */
import { Redis } from 'ioredis'
import type { PutOptions, SharedStore } from './shared-store.ts'
import { checkLock, expiry } from './store-arguments.ts'
import { DEFAULT_STORE_TIMEOUT_MS } from './store-deadline.ts'

/** Deletes KEYS[1] only when it holds ARGV[1]: the lock's owner. */
const UNLOCK = `if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end return 0`

/** A Redis-backed store; {@link RedisStore.close} ends its connection. */
export interface RedisStore extends SharedStore {
  readonly kind: 'redis'
  /** Closes the connection (pending commands finish first). */
  close(): Promise<void>
}

/** Options of {@link redisStore}. */
export interface RedisStoreOptions {
  /**
   * Called with each connection error (its message names the host, never the URL's password).
   * @default one `console.warn` line per outage
   */
  readonly onError?: (error: Error) => void
  /**
   * How many times a command is retried across reconnects before it rejects.
   * @default 2
   */
  readonly maxRetriesPerRequest?: number
  /**
   * How long connecting may take, in milliseconds; a command is dropped after twice this
   * (`KEYLINE_STORE_TIMEOUT_MS` through `sharedStoreFromEnv`, which answers each call at this
   * deadline itself).
   * @default 250
   */
  readonly timeoutMs?: number
}

/** The URL with any password replaced, for messages. */
export const redactRedisUrl = (url: string): string => {
  try {
    const parsed = new URL(url)
    if (parsed.password) parsed.password = '****'
    if (parsed.username && !parsed.password) parsed.username = '****'
    return parsed.toString()
  } catch {
    return '(unparsable URL)'
  }
}

/**
 * A {@link SharedStore} on the Redis server at `url` (`redis://[user:password@]host:port[/db]`,
 * `rediss://` for TLS). Values are plain `GET`/`SET … PX`; the lock is `SET key owner NX PX ttl`
 * (atomic across every replica), released by a Lua compare-and-delete so only its owner frees it.
 * Connects on first use and reconnects by itself; a command fails after
 * {@link RedisStoreOptions.maxRetriesPerRequest} retries, or when the server does not answer
 * within {@link RedisStoreOptions.timeoutMs}, rather than hanging a request.
 */
export const redisStore = (url: string, options: RedisStoreOptions = {}): RedisStore => {
  if (typeof url !== 'string' || !/^rediss?:\/\//.test(url)) {
    throw new TypeError('redisStore: the URL must start with redis:// or rediss://')
  }
  const timeoutMs = options.timeoutMs ?? DEFAULT_STORE_TIMEOUT_MS
  const client = new Redis(url, {
    lazyConnect: true,
    maxRetriesPerRequest: options.maxRetriesPerRequest ?? 2,
    // A server that accepts but never answers (stopped, overloaded) fails a command, not a
    // request: sharedStoreFromEnv's deadline answers the caller at timeoutMs; ioredis drops the
    // command itself a little later, so nothing piles up.
    connectTimeout: timeoutMs,
    commandTimeout: 2 * timeoutMs,
  })
  let warned = false
  const onError =
    options.onError ??
    ((error: Error) => {
      if (warned) return
      warned = true
      console.warn(`keyline: redis store ${redactRedisUrl(url)} unavailable: ${error.message}`)
    })
  client.on('error', onError)
  client.on('ready', () => {
    warned = false
  })

  return {
    kind: 'redis',
    get: (key) => client.get(key),
    async put(key: string, value: string, put: PutOptions = {}): Promise<void> {
      const until = expiry(0, put.ttlSeconds)
      if (until === Number.POSITIVE_INFINITY) await client.set(key, value)
      else await client.set(key, value, 'PX', Math.max(1, Math.ceil(until)))
    },
    async delete(key: string): Promise<void> {
      await client.del(key)
    },
    async lock(key: string, owner: string, ttlMs: number): Promise<boolean> {
      checkLock(owner, ttlMs)
      if ((await client.set(key, owner, 'PX', ttlMs, 'NX')) === 'OK') return true
      // Already held: by this owner (it asked again) or by another.
      return (await client.get(key)) === owner
    },
    async unlock(key: string, owner: string): Promise<void> {
      await client.eval(UNLOCK, 1, key, owner)
    },
    async close(): Promise<void> {
      if (client.status === 'end' || client.status === 'wait') {
        client.disconnect()
        return
      }
      await client.quit().catch(() => client.disconnect())
    },
  }
}

/**
 * Chooses the {@link SharedStore} of a Node or Deno deployment from its environment. Only the
 * Node and Deno entries import this file (it reaches `node:fs` and, when configured, `ioredis`).
 */
import { fileStore } from './file-store.ts'
import { memoryStore } from './memory-store.ts'
import type { SharedStore } from './shared-store.ts'
import { storeTimeoutMs, withDeadline } from './store-deadline.ts'

/** Redis for several replicas: `redis://[user:password@]host:port[/db]` or `rediss://…`. */
export const REDIS_URL_VARIABLE = 'KEYLINE_REDIS_URL'
/** The JSON file of a single instance. */
export const VAULT_FILE_VARIABLE = 'KEYLINE_VAULT_FILE'

/** A server-side store; `close()` ends its connection (a no-op for file and memory). */
export interface ServerSharedStore extends SharedStore {
  close(): Promise<void>
}

const text = (value: unknown): string | undefined =>
  typeof value === 'string' && value.trim() !== '' ? value.trim() : undefined

/**
 * `KEYLINE_REDIS_URL` → Redis (`ioredis` is loaded only then), else `KEYLINE_VAULT_FILE` → that
 * file, else memory (nothing survives a restart, nothing is shared). Every Redis and file call
 * is bounded by `KEYLINE_STORE_TIMEOUT_MS` (default 250 ms, connecting included). Rejects with
 * an error naming the variable (never its value) when the Redis URL is not one; a timeout that
 * is not one is the default (the entries warn at start).
 */
export const sharedStoreFromEnv = async (
  env: Readonly<Record<string, unknown>>
): Promise<ServerSharedStore> => {
  const timeoutMs = storeTimeoutMs(env)
  const url = text(env[REDIS_URL_VARIABLE])
  if (url) {
    if (!/^rediss?:\/\/./.test(url)) {
      throw new TypeError(`${REDIS_URL_VARIABLE} must be a redis:// or rediss:// URL`)
    }
    const { redisStore } = await import('./redis-store.ts')
    return withDeadline(redisStore(url, { timeoutMs }), timeoutMs)
  }
  const file = text(env[VAULT_FILE_VARIABLE])
  const store = file ? withDeadline(fileStore(file), timeoutMs) : memoryStore()
  return { ...store, close: async (): Promise<void> => {} }
}

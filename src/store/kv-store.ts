import type { PutOptions, SharedStore } from './shared-store.ts'
import { checkLock, expiry } from './store-arguments.ts'
import { boundStore } from './store-deadline.ts'

/** The binding {@link kvStoreFromEnv} reads. */
export const KV_BINDING = 'KEYLINE_KV'

/** Workers KV's smallest `expirationTtl`, in seconds. */
export const KV_MIN_TTL_SECONDS = 60

/** The part of a Workers KV namespace binding the store uses. */
export interface KvNamespaceLike {
  getWithMetadata<M = unknown>(key: string): Promise<{ value: string | null; metadata: M | null }>
  put(
    key: string,
    value: string,
    options?: { expirationTtl?: number; metadata?: unknown }
  ): Promise<void>
  delete(key: string): Promise<void>
}

/** Stored beside a value: when it expires (epoch ms), as KV cannot expire sooner than 60 s. */
interface Metadata {
  readonly until?: number
}

/** What a lock key holds. */
interface LockRecord {
  readonly owner: string
  readonly until: number
}

const parseLock = (text: string | null): LockRecord | undefined => {
  if (!text) return undefined
  try {
    const record = JSON.parse(text) as Partial<LockRecord>
    return typeof record.owner === 'string' && typeof record.until === 'number'
      ? (record as LockRecord)
      : undefined
  } catch {
    return undefined
  }
}

/**
 * A {@link SharedStore} on a Workers KV namespace, shared by every isolate of a deployment.
 * KV expires nothing sooner than 60 s: a shorter TTL is kept as metadata and enforced on read,
 * with KV's own expiry at 60 s cleaning up. KV has no compare-and-set, so the lock is best
 * effort: an owner writes itself with the lock's expiry, then reads back and holds the lock when
 * it reads itself (KV is eventually consistent across locations; enough where one cron run does
 * the work). Web APIs only.
 */
export const kvStore = (
  namespace: KvNamespaceLike,
  options: { now?: () => number } = {}
): SharedStore => {
  if (!isKvNamespace(namespace)) throw new TypeError('kvStore: not a Workers KV namespace binding')
  const now = options.now ?? Date.now

  const read = async (key: string): Promise<string | null> => {
    const { value, metadata } = await namespace.getWithMetadata<Metadata>(key)
    if (value === null) return null
    if (typeof metadata?.until === 'number' && metadata.until <= now()) return null
    return value
  }

  const write = (key: string, value: string, until: number): Promise<void> => {
    if (until === Number.POSITIVE_INFINITY) return namespace.put(key, value)
    const seconds = Math.max(KV_MIN_TTL_SECONDS, Math.ceil((until - now()) / 1000))
    return namespace.put(key, value, { expirationTtl: seconds, metadata: { until } })
  }

  return {
    kind: 'kv',
    get: read,
    async put(key: string, value: string, put: PutOptions = {}): Promise<void> {
      return write(key, value, expiry(now(), put.ttlSeconds))
    },
    async delete(key: string): Promise<void> {
      return namespace.delete(key)
    },
    async lock(key: string, owner: string, ttlMs: number): Promise<boolean> {
      checkLock(owner, ttlMs)
      const held = parseLock(await read(key))
      if (held && held.until > now()) return held.owner === owner
      const until = now() + ttlMs
      await write(key, JSON.stringify({ owner, until } satisfies LockRecord), until)
      return parseLock(await read(key))?.owner === owner
    },
    async unlock(key: string, owner: string): Promise<void> {
      if (parseLock(await read(key))?.owner === owner) await namespace.delete(key)
    },
  }
}

const isKvNamespace = (value: unknown): value is KvNamespaceLike => {
  if (!value || typeof value !== 'object') return false
  const kv = value as Partial<KvNamespaceLike>
  return (
    typeof kv.getWithMetadata === 'function' &&
    typeof kv.put === 'function' &&
    typeof kv.delete === 'function'
  )
}

/**
 * The store on the `KEYLINE_KV` binding of a Workers env, each call bounded by
 * `KEYLINE_STORE_TIMEOUT_MS` (default 250 ms); `undefined` when it is not bound.
 */
export const kvStoreFromEnv = (
  env: Readonly<Record<string, unknown>> | undefined
): SharedStore | undefined => boundStore(env, KV_BINDING, isKvNamespace, kvStore)

import type { LogEntry, LogLimits } from './bounded-log.ts'

/**
 * The store instances of one deployment share: Workers KV on Workers, Redis for Node and Deno
 * replicas, a file for a single instance, memory for tests. keyline keeps in it what every
 * instance must see: the encrypted token vault, the refresh lock and the reload epoch. On
 * Workers with a `KEYLINE_LIMITS` Durable Object bound, the refresh lock and the rotation events
 * log live in that object instead (`durable-object`: compare-and-set, no write limit per key).
 *
 * Values are opaque strings (the vault writes Fernet tokens, never plaintext).
 */
export interface SharedStore {
  /** What backs it, for the status and log lines. */
  readonly kind: 'kv' | 'redis' | 'file' | 'memory' | 'durable-object'
  /** The stored text, or `null` when the key is absent (or expired). */
  get(key: string): Promise<string | null>
  /** Stores `value`; with `ttlSeconds` it expires after that many seconds. */
  put(key: string, value: string, options?: PutOptions): Promise<void>
  delete(key: string): Promise<void>
  /**
   * Takes the lock `key` for `owner` for `ttlMs` milliseconds: `true` when `owner` holds it now.
   * Atomic on Redis, memory, a Durable Object and file (one process); on KV, which has no compare-and-set, it is
   * best effort (write, then read back), which is enough where one cron run does the work.
   */
  lock(key: string, owner: string, ttlMs: number): Promise<boolean>
  /** Releases the lock when `owner` still holds it; otherwise does nothing. */
  unlock(key: string, owner: string): Promise<void>
  /**
   * Merges `entries` into the bounded log at `key` (a JSON array, see `mergeLog`) in one atomic
   * step. Only where the store can (memory, a Durable Object); elsewhere the caller takes a lock,
   * reads, merges and writes.
   */
  appendLog?(key: string, entries: readonly LogEntry[], limits: LogLimits): Promise<void>
}

/** Options of {@link SharedStore.put}. */
export interface PutOptions {
  /** Seconds until the value expires; absent keeps it until overwritten. */
  readonly ttlSeconds?: number
}

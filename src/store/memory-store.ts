import { type LogEntry, type LogLimits, mergeLog, parseLog } from './bounded-log.ts'
import type { PutOptions, SharedStore } from './shared-store.ts'
import { checkLock, expiry } from './store-arguments.ts'

/** Options of {@link memoryStore}. */
export interface MemoryStoreOptions {
  /**
   * The clock, in epoch milliseconds (tests move it to expire values without waiting).
   * @default Date.now
   */
  readonly now?: () => number
  /**
   * The map the entries live in (a Durable Object keeps it and persists what changes).
   * @default a new one
   */
  readonly entries?: Map<string, MemoryEntry>
}

/** One value of a {@link memoryStore}. */
export interface MemoryEntry {
  readonly value: string
  /** Epoch milliseconds after which the entry is gone; `Infinity` for none. */
  readonly until: number
}

/**
 * A {@link SharedStore} in this process's memory: for tests and a single instance that need
 * not survive a restart. TTLs are honoured on every read; the lock and `appendLog` are atomic
 * (JavaScript runs one operation at a time). Web APIs only.
 */
export const memoryStore = (options: MemoryStoreOptions = {}): SharedStore => {
  const now = options.now ?? Date.now
  if (typeof now !== 'function') throw new TypeError('memoryStore: now must be a function')
  const entries = options.entries ?? new Map<string, MemoryEntry>()

  const live = (key: string): MemoryEntry | undefined => {
    const entry = entries.get(key)
    if (entry && entry.until <= now()) {
      entries.delete(key)
      return undefined
    }
    return entry
  }

  return {
    kind: 'memory',
    async get(key: string): Promise<string | null> {
      return live(key)?.value ?? null
    },
    async put(key: string, value: string, put: PutOptions = {}): Promise<void> {
      entries.set(key, { value, until: expiry(now(), put.ttlSeconds) })
    },
    async delete(key: string): Promise<void> {
      entries.delete(key)
    },
    async lock(key: string, owner: string, ttlMs: number): Promise<boolean> {
      checkLock(owner, ttlMs)
      const held = live(key)
      if (held) return held.value === owner
      entries.set(key, { value: owner, until: now() + ttlMs })
      return true
    },
    async unlock(key: string, owner: string): Promise<void> {
      if (live(key)?.value === owner) entries.delete(key)
    },
    async appendLog(key: string, added: readonly LogEntry[], limits: LogLimits): Promise<void> {
      const merged = mergeLog(parseLog(live(key)?.value ?? null), added, limits)
      entries.set(key, { value: JSON.stringify(merged), until: Number.POSITIVE_INFINITY })
    },
  }
}

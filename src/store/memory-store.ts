import type { PutOptions, SharedStore } from './shared-store.ts'
import { checkLock, expiry } from './store-arguments.ts'

/** Options of {@link memoryStore}. */
export interface MemoryStoreOptions {
  /**
   * The clock, in epoch milliseconds (tests move it to expire values without waiting).
   * @default Date.now
   */
  readonly now?: () => number
}

interface Entry {
  readonly value: string
  /** Epoch milliseconds after which the entry is gone; `Infinity` for none. */
  readonly until: number
}

/**
 * A {@link SharedStore} in this process's memory: for tests and a single instance that need
 * not survive a restart. TTLs are honoured on every read; the lock is atomic (JavaScript runs
 * one operation at a time). Web APIs only.
 */
export const memoryStore = (options: MemoryStoreOptions = {}): SharedStore => {
  const now = options.now ?? Date.now
  if (typeof now !== 'function') throw new TypeError('memoryStore: now must be a function')
  const entries = new Map<string, Entry>()

  const live = (key: string): Entry | undefined => {
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
  }
}

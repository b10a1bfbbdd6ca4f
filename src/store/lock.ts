/**
 * One lock helper over a {@link SharedStore}'s `lock`/`unlock`: what the Fyers refresh and the
 * rotation events log both take, so waiting, giving up and a failing store are handled alike.
 */
import type { SharedStore } from './shared-store.ts'

/** `taken` by this owner, `held` by another until the wait ran out, `unavailable`: the store failed. */
export type LockState = 'taken' | 'held' | 'unavailable'

/** How {@link takeLock} waits. */
export interface TakeLockOptions {
  /** How long the lock is held unless released, in ms. */
  readonly ttlMs: number
  /** How long to keep trying while another owner holds it, in ms. @default 0 — one try */
  readonly waitMs?: number
  /** The pause between tries, in ms. @default 50 */
  readonly pollMs?: number
  /** Clock, for tests. @default Date.now */
  readonly now?: () => number
}

/**
 * Takes the lock `key` for `owner`, trying again every `pollMs` while another owner holds it,
 * for at most `waitMs`. Never throws: a failing store is `unavailable` (the caller decides
 * whether to go on without the lock).
 */
export const takeLock = async (
  store: SharedStore,
  key: string,
  owner: string,
  options: TakeLockOptions
): Promise<LockState> => {
  const now = options.now ?? Date.now
  const deadline = now() + (options.waitMs ?? 0)
  const pollMs = options.pollMs ?? 50
  for (;;) {
    try {
      if (await store.lock(key, owner, options.ttlMs)) return 'taken'
    } catch {
      return 'unavailable'
    }
    if (now() + pollMs > deadline) return 'held'
    await new Promise((resolve) => setTimeout(resolve, pollMs))
  }
}

/** Releases a lock `owner` took; a failing store is ignored (the lock's TTL frees it). */
export const releaseLock = async (
  store: SharedStore,
  key: string,
  owner: string
): Promise<void> => {
  await store.unlock(key, owner).catch(() => undefined)
}

import type { StoreKind } from '../../catalog/keyline.ts'
import { AwsStoreError } from './aws-request.ts'
import type { StoreFetchContext, StoreFetched, StoreRef } from './store-fetch.ts'

/** How a store fetch ended: a value, a failure while an older value is served, or nothing. */
export type StoreFetchOutcome = 'success' | 'stale' | 'failure'

/** Options of {@link StoreCache}. */
export interface StoreCacheOptions {
  /**
   * Longest time one fetch may take (credentials included); a request waits no longer, and is
   * served the cached value, if any.
   * @default 3000
   */
  timeoutMs?: number
  /** First delay after a failed fetch; it doubles per failure, with jitter. @default 1000 */
  backoffBaseMs?: number
  /** Longest delay between retries of a failing fetch. @default 300000 */
  backoffMaxMs?: number
  /** Told of every fetch: its store and outcome (the metrics). @default nothing */
  onFetch?: (kind: StoreKind, outcome: StoreFetchOutcome) => void
  /** Clock, for tests. @default Date.now */
  now?: () => number
  /** Random numbers in [0, 1), for the refresh moment and the jitter. @default Math.random */
  random?: () => number
}

/** One cached store value and what its fetches did. */
export interface StoreEntry {
  readonly ref: StoreRef
  /** The last successful fetch. */
  fetched?: StoreFetched
  fetchedAt?: number
  /** When the value is refreshed: a random moment between TTL/2 and TTL after `fetchedAt`. */
  refreshAt: number
  /** Before this moment a failed fetch is not retried. */
  retryAt: number
  failures: number
  /** The last failure, redacted: the store's error type and message, never a value. */
  lastError?: string
  lastErrorAt?: number
  inflight?: { readonly promise: Promise<void>; readonly startedAt: number }
  /** Counts fetches started and reloads: a fetch that is no longer the latest is ignored. */
  attempt: number
}

/** What a fetch needs besides the signal. */
export type StoreFetchInput = Omit<StoreFetchContext, 'signal'>

const describe = (error: unknown, ref: StoreRef): string => {
  if (error instanceof AwsStoreError) return `${ref.source}: ${error.message}`
  // Other errors (a Secrets Store binding's) are named, not quoted: their text is not ours.
  const name = error instanceof Error ? error.name : 'error'
  return `${ref.source}: fetch failed (${name})`
}

/**
 * The store cache, with the semantics of AWS's caching libraries: a value is fetched on first
 * use and refreshed at a random moment between TTL/2 and TTL; readers of one entry share one
 * fetch; a failed refresh keeps the cached value and is retried with exponential backoff and
 * jitter. No reader waits longer than `timeoutMs`.
 */
export class StoreCache {
  readonly #entries = new Map<string, StoreEntry>()
  readonly #timeoutMs: number
  readonly #backoffBaseMs: number
  readonly #backoffMaxMs: number
  readonly #listeners = new Set<NonNullable<StoreCacheOptions['onFetch']>>()
  readonly #now: () => number
  readonly #random: () => number
  /** Bumped whenever an entry's value or error changes. */
  version = 0

  constructor(options: StoreCacheOptions = {}) {
    const timeoutMs = options.timeoutMs ?? 3000
    if (!Number.isFinite(timeoutMs) || timeoutMs <= 0) {
      throw new TypeError('timeoutMs must be a positive number of milliseconds')
    }
    this.#timeoutMs = timeoutMs
    this.#backoffBaseMs = options.backoffBaseMs ?? 1000
    this.#backoffMaxMs = options.backoffMaxMs ?? 300_000
    if (options.onFetch) this.#listeners.add(options.onFetch)
    this.#now = options.now ?? Date.now
    this.#random = options.random ?? Math.random
  }

  /** Tells `listener` of every fetch from now on (the metrics); a listener is added once. */
  observe(listener: NonNullable<StoreCacheOptions['onFetch']>): void {
    this.#listeners.add(listener)
  }

  #told(kind: StoreKind, outcome: StoreFetchOutcome): void {
    for (const listener of this.#listeners) listener(kind, outcome)
  }

  /** The entry of `ref`, if it was ever read. */
  entry(ref: StoreRef): StoreEntry | undefined {
    return this.#entries.get(ref.key)
  }

  /**
   * The entry of `ref` once it is usable: at once while it is fresh or backing off, else after
   * its (shared) fetch or `timeoutMs`, whichever comes first. `undefined` when nothing waits.
   */
  due(ref: StoreRef, input: StoreFetchInput, ttlMs: number): Promise<void> | undefined {
    let entry = this.#entries.get(ref.key)
    if (!entry) {
      entry = { ref, refreshAt: 0, retryAt: 0, failures: 0, attempt: 0 }
      this.#entries.set(ref.key, entry)
    }
    const now = this.#now()
    if (entry.fetched && now < entry.refreshAt) return undefined
    if (now < entry.retryAt) return undefined
    // A fetch older than the timeout was abandoned (its request ended): start another.
    if (!entry.inflight || now - entry.inflight.startedAt > this.#timeoutMs) {
      entry.inflight = { promise: this.#fetch(entry, input, ttlMs), startedAt: now }
    }
    // Every reader of one fetch waits until that fetch's own deadline at most, so a request
    // that reads the store twice (middleware, then registry) is not held twice as long.
    return this.#bounded(entry.inflight.promise, entry.inflight.startedAt + this.#timeoutMs - now)
  }

  /** Makes every entry due and forgets its backoff: the next read fetches again. */
  reload(): void {
    for (const entry of this.#entries.values()) {
      entry.refreshAt = 0
      entry.retryAt = 0
      entry.inflight = undefined
      entry.attempt++
    }
    this.version++
  }

  async #fetch(entry: StoreEntry, input: StoreFetchInput, ttlMs: number): Promise<void> {
    const { ref } = entry
    const attempt = ++entry.attempt
    let fetched: StoreFetched
    try {
      fetched = await ref.fetch({ ...input, signal: AbortSignal.timeout(this.#timeoutMs) })
    } catch (error) {
      if (entry.attempt !== attempt) return
      entry.inflight = undefined
      const now = this.#now()
      entry.failures++
      const delay = Math.min(this.#backoffMaxMs, this.#backoffBaseMs * 2 ** (entry.failures - 1))
      entry.retryAt = now + delay / 2 + (this.#random() * delay) / 2
      const message = this.#redact(describe(error, ref))
      if (message !== entry.lastError) this.version++
      entry.lastError = message
      entry.lastErrorAt = now
      this.#told(ref.kind, entry.fetched ? 'stale' : 'failure')
      return
    }
    if (entry.attempt !== attempt) return
    entry.inflight = undefined
    const now = this.#now()
    const previous = entry.fetched
    if (
      previous?.value !== fetched.value ||
      previous?.versionId !== fetched.versionId ||
      entry.lastError !== undefined ||
      !previous
    ) {
      this.version++
    }
    entry.fetched = fetched
    entry.fetchedAt = now
    entry.refreshAt = now + ttlMs * (0.5 + this.#random() * 0.5)
    entry.retryAt = 0
    entry.failures = 0
    entry.lastError = undefined
    this.#told(ref.kind, 'success')
  }

  /** Waits for `promise`, at most `ms`. */
  #bounded(promise: Promise<void>, ms: number): Promise<void> {
    let timer: ReturnType<typeof setTimeout> | undefined
    const timeout = new Promise<void>((resolve) => {
      timer = setTimeout(resolve, Math.max(0, ms))
    })
    return Promise.race([promise, timeout]).finally(() => clearTimeout(timer))
  }

  /** Masks every cached value in an error message, should a store ever echo one. */
  #redact(message: string): string {
    let out = message
    for (const entry of this.#entries.values()) {
      const value = entry.fetched?.value
      if (value && value.length >= 4) out = out.split(value).join('[REDACTED]')
    }
    return out
  }
}

/** Settings of the failed-attempt limit. */
export interface RateLimitOptions {
  /**
   * Failed attempts a client address may make within one window before it is refused.
   * @default 10
   */
  maxFailures?: number
  /**
   * Length of the window, in milliseconds, counted from the first failure.
   * @default 60000
   */
  windowMs?: number
  /**
   * Most client addresses tracked at once; the oldest are forgotten first.
   * @default 10000
   */
  maxClients?: number
}

interface Window {
  failures: number
  resetAt: number
}

const positiveInteger = (value: number, name: string): number => {
  if (!Number.isInteger(value) || value <= 0)
    throw new TypeError(`${name} must be a positive integer`)
  return value
}

/**
 * Counts attempts per client address in fixed windows, each attempt *before* it is judged: a
 * request takes a slot of its client's window first and gives it back only by succeeding, so
 * however many guesses run in parallel, no more than `maxFailures` of them are ever judged in
 * one window. Kept in memory: per process on Node and Deno, per isolate on Workers.
 */
export class FailureLimiter {
  readonly #max: number
  readonly #windowMs: number
  readonly #maxClients: number
  readonly #windows = new Map<string, Window>()

  constructor(options: RateLimitOptions = {}) {
    this.#max = positiveInteger(options.maxFailures ?? 10, 'rateLimit.maxFailures')
    this.#windowMs = positiveInteger(options.windowMs ?? 60_000, 'rateLimit.windowMs')
    this.#maxClients = positiveInteger(options.maxClients ?? 10_000, 'rateLimit.maxClients')
  }

  /**
   * Counts an attempt of `client` as a failure until it proves otherwise ({@link succeed}).
   * Returns `undefined` when the attempt may be judged, or the seconds `client` must wait when
   * its window is spent (the refused attempt is not counted).
   */
  attempt(client: string, now: number): number | undefined {
    let window = this.#windows.get(client)
    if (window && now >= window.resetAt) {
      this.#windows.delete(client)
      window = undefined
    }
    if (!window) {
      if (this.#windows.size >= this.#maxClients) this.#evict(now)
      this.#windows.set(client, { failures: 1, resetAt: now + this.#windowMs })
      return undefined
    }
    if (window.failures >= this.#max) {
      return Math.max(1, Math.ceil((window.resetAt - now) / 1000))
    }
    window.failures += 1
    return undefined
  }

  /** Forgets the failures of `client` after it authenticated, its own attempt's included. */
  succeed(client: string): void {
    this.#windows.delete(client)
  }

  #evict(now: number): void {
    for (const [client, window] of this.#windows) {
      if (now >= window.resetAt) this.#windows.delete(client)
    }
    while (this.#windows.size >= this.#maxClients) {
      const oldest = this.#windows.keys().next().value
      if (oldest === undefined) break
      this.#windows.delete(oldest)
    }
  }
}

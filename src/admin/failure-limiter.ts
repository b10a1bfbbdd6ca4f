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
 * Counts failed attempts per client address in fixed windows. Kept in memory: per process on
 * Node and Deno, per isolate on Workers.
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

  /** Seconds `client` must wait before trying again, or `undefined` when it may try now. */
  retryAfter(client: string, now: number): number | undefined {
    const window = this.#windows.get(client)
    if (!window) return undefined
    if (now >= window.resetAt) {
      this.#windows.delete(client)
      return undefined
    }
    if (window.failures < this.#max) return undefined
    return Math.max(1, Math.ceil((window.resetAt - now) / 1000))
  }

  /** Records a failed attempt of `client`. */
  fail(client: string, now: number): void {
    const window = this.#windows.get(client)
    if (window && now < window.resetAt) {
      window.failures += 1
      return
    }
    this.#windows.delete(client)
    if (this.#windows.size >= this.#maxClients) this.#evict(now)
    this.#windows.set(client, { failures: 1, resetAt: now + this.#windowMs })
  }

  /** Forgets the failures of `client` after it authenticated. */
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

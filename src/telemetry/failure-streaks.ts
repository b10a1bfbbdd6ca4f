/** The failure streak of one provider and operation. */
export interface Streak {
  readonly provider: string
  readonly operation: string
  /** Failures since the last success; 0 right after a success. */
  readonly count: number
}

/**
 * Failures in a row per (provider, operation), reported through the observable gauge
 * `keyline.upstream.consecutive_failures`. A success resets its pair to 0 but keeps the pair, so
 * the gauge shows 0 rather than vanishing. Pass only normalised (bounded) values as keys.
 */
export class FailureStreaks {
  readonly #streaks = new Map<string, Streak>()

  #key(provider: string, operation: string): string {
    return `${provider}\u0000${operation}`
  }

  /** Records a success: the pair's streak drops to 0. */
  success(provider: string, operation: string): void {
    const key = this.#key(provider, operation)
    // A pair already at 0 stays as it is: no new record per success.
    if (this.#streaks.get(key)?.count === 0) return
    this.#streaks.set(key, { provider, operation, count: 0 })
  }

  /** Records a failure and returns the pair's new streak. */
  failure(provider: string, operation: string): number {
    const key = this.#key(provider, operation)
    const count = (this.#streaks.get(key)?.count ?? 0) + 1
    this.#streaks.set(key, { provider, operation, count })
    return count
  }

  /** The pair's current streak, 0 if it never failed. */
  count(provider: string, operation: string): number {
    return this.#streaks.get(this.#key(provider, operation))?.count ?? 0
  }

  /** Every pair seen so far with its streak. */
  snapshot(): Streak[] {
    return [...this.#streaks.values()]
  }

  /** Forgets every pair. */
  clear(): void {
    this.#streaks.clear()
  }
}

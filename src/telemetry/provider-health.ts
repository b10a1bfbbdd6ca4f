/** What keyline has seen of one provider's upstream since this process or isolate started. */
export interface ProviderHealth {
  /** Failed upstream calls since the last success. */
  readonly consecutiveFailures: number
  /** Epoch milliseconds of the last successful call. */
  readonly lastSuccessAt?: number
  /** Epoch milliseconds of the last failed call. */
  readonly lastFailureAt?: number
  /** `error.type` of the last failure, e.g. `authentication_error` or `timeout`. */
  readonly lastErrorType?: string
  /** Times a rejected current secret was replaced by a working next secret. */
  readonly failovers: number
}

const EMPTY: ProviderHealth = { consecutiveFailures: 0, failovers: 0 }

/** Per-provider health, kept per process (Node, Deno) or per isolate (Workers). */
export class HealthTracker {
  readonly #state = new Map<string, ProviderHealth>()
  readonly #now: () => number

  constructor(now: () => number = Date.now) {
    this.#now = now
  }

  /** Records a successful upstream call: the failure streak ends. */
  success(provider: string): void {
    this.#state.set(provider, {
      ...this.get(provider),
      consecutiveFailures: 0,
      lastSuccessAt: this.#now(),
    })
  }

  /** Records a failed upstream call with its `error.type`. */
  failure(provider: string, errorType: string): void {
    const previous = this.get(provider)
    this.#state.set(provider, {
      ...previous,
      consecutiveFailures: previous.consecutiveFailures + 1,
      lastFailureAt: this.#now(),
      lastErrorType: errorType,
    })
  }

  /** Records a failover from the current to the next secret. */
  failover(provider: string): void {
    const previous = this.get(provider)
    this.#state.set(provider, { ...previous, failovers: previous.failovers + 1 })
  }

  /** The health of `provider`; all zeros before its first call. */
  get(provider: string): ProviderHealth {
    return this.#state.get(provider) ?? EMPTY
  }
}

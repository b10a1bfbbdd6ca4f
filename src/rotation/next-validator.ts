import type { ProviderId } from '../catalog/providers.ts'
import { probes } from '../providers/index.ts'
import type { ProviderSnapshot } from '../secrets/registry.ts'
import { rotatingState } from './rotating-credential.ts'

/** What keyline knows about a staged next secret: `valid`, `invalid` or not known yet. */
export type NextValidityState = 'valid' | 'invalid' | 'unknown'

/** The outcome of checking a next secret with a cheap authenticated upstream call. */
export interface NextValidity {
  readonly state: NextValidityState
  /**
   * Why it is not valid, without any upstream text: e.g. `http_401`, `fyers_code_-16`,
   * `client_id_missing`, `network_error`, `timeout`, `not_checked`.
   */
  readonly reason?: string
  /** Epoch milliseconds of the check; absent when it never ran. */
  readonly checkedAt?: number
}

/** A next secret that has not been checked yet. */
export const NOT_CHECKED: NextValidity = Object.freeze({ state: 'unknown', reason: 'not_checked' })

/** Options of {@link NextSecretValidator}. */
export interface NextSecretValidatorOptions {
  /** The fetch of the validation calls. @default globalThis.fetch */
  fetch?: typeof fetch
  /**
   * How long one validation call may take before it counts as `unknown` (`timeout`).
   * @default 10000
   */
  timeoutMs?: number
  /**
   * How long an `unknown` outcome (upstream busy or unreachable) is kept before a status asks
   * again; `valid` and `invalid` are kept until the next secret changes or {@link clear}.
   * @default 10000
   */
  retryMs?: number
  /** Clock, for tests. @default Date.now */
  now?: () => number
}

interface Entry {
  readonly key: string
  result?: NextValidity
  pending?: Promise<NextValidity>
}

const positive = (value: number, name: string): number => {
  if (!Number.isFinite(value) || value <= 0) {
    throw new TypeError(`${name} must be a positive number of milliseconds`)
  }
  return value
}

/**
 * Checks staged next secrets with each provider's validity probe (the cheap authenticated call
 * its module defines) and remembers the outcome per provider, provider generation and next
 * secret generation, so a status does not call upstream every time. Share one instance between
 * the admin routes, the reload epoch middleware and anything else that needs `next: valid`.
 */
export class NextSecretValidator {
  readonly #fetch: typeof fetch
  readonly #timeoutMs: number
  readonly #retryMs: number
  readonly #now: () => number
  readonly #entries = new Map<ProviderId, Entry>()

  constructor(options: NextSecretValidatorOptions = {}) {
    const given = options.fetch
    this.#fetch = given ?? ((input, init) => fetch(input, init))
    this.#timeoutMs = positive(options.timeoutMs ?? 10_000, 'timeoutMs')
    this.#retryMs = positive(options.retryMs ?? 10_000, 'retryMs')
    this.#now = options.now ?? Date.now
  }

  /** What is known of the snapshot's next secret without calling upstream; `undefined` if none. */
  peek(snapshot: ProviderSnapshot): NextValidity | undefined {
    const next = rotatingState(snapshot).next
    if (!next) return undefined
    const entry = this.#entries.get(snapshot.provider)
    if (entry?.key !== keyOf(snapshot, next.generation) || !entry.result) return NOT_CHECKED
    return entry.result
  }

  /**
   * The validity of the snapshot's next secret, calling upstream when it is not known (or was
   * `unknown` longer than `retryMs` ago); concurrent callers share one call. `undefined` when
   * no next secret is staged.
   */
  validate(snapshot: ProviderSnapshot): Promise<NextValidity | undefined> {
    const next = rotatingState(snapshot).next
    if (!next) return Promise.resolve(undefined)
    const key = keyOf(snapshot, next.generation)
    let entry = this.#entries.get(snapshot.provider)
    if (entry?.key !== key) {
      entry = { key }
      this.#entries.set(snapshot.provider, entry)
    }
    if (entry.pending) return entry.pending
    const known = entry.result
    if (
      known &&
      (known.state !== 'unknown' || this.#now() - (known.checkedAt ?? 0) < this.#retryMs)
    ) {
      return Promise.resolve(known)
    }
    const current = entry
    const pending = this.#probe(snapshot).then((result) => {
      current.result = result
      current.pending = undefined
      return result
    })
    current.pending = pending
    return pending
  }

  /** Forgets one provider's outcome: its next {@link validate} calls upstream again. */
  forget(provider: ProviderId): void {
    if (!this.#entries.get(provider)?.pending) this.#entries.delete(provider)
  }

  /** Forgets every outcome: the next {@link validate} calls upstream again (after a reload). */
  clear(): void {
    this.#entries.clear()
  }

  async #probe(snapshot: ProviderSnapshot): Promise<NextValidity> {
    const next = rotatingState(snapshot).next
    if (!next) return NOT_CHECKED
    const controller = new AbortController()
    const timer = setTimeout(() => controller.abort(), this.#timeoutMs)
    try {
      const probe = probes[snapshot.provider] as (
        snapshot: ProviderSnapshot,
        secret: typeof next,
        doFetch: typeof fetch,
        signal: AbortSignal
      ) => ReturnType<(typeof probes)['anthropic']>
      const verdict = await probe(snapshot, next, this.#fetch, controller.signal)
      return { ...verdict, checkedAt: this.#now() }
    } catch {
      const reason = controller.signal.aborted ? 'timeout' : 'network_error'
      return { state: 'unknown', reason, checkedAt: this.#now() }
    } finally {
      clearTimeout(timer)
    }
  }
}

const keyOf = (snapshot: ProviderSnapshot, nextGeneration: number): string =>
  `${snapshot.generation}:${nextGeneration}`

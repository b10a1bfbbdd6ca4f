import { ANTHROPIC_HEADERS_TIMEOUT_MS } from '../catalog/anthropic.ts'
import type { CallEnd, FailureFacts, TokenUsage } from '../catalog/outcomes.ts'
import type { ProviderId } from '../catalog/providers.ts'
import type { EnvRecord } from '../env.ts'
import type { Redactor } from '../redact/redactor.ts'
import type { SecretRegistry } from '../secrets/registry.ts'
import type { Secret } from '../secrets/secret.ts'
import type { CallReport, CallReporter } from '../telemetry/call-reporter.ts'
import { UpstreamError } from '../upstream/fetch.ts'
import { type RetryPolicy, retryPolicy } from '../upstream/retry-policy.ts'

/** The failure facts of a call that got no usable answer. */
export const transportFacts = (error: UpstreamError): FailureFacts =>
  error.kind === 'redirect' ? {} : { transport: error.kind }

/** The retry policy of each provider's calls. */
export type CallPolicies = { readonly [P in ProviderId]: RetryPolicy }

/**
 * Each provider's retry policy: `given` over `retryPolicy`'s defaults, where
 * Anthropic's answers may take {@link ANTHROPIC_HEADERS_TIMEOUT_MS} (10 minutes) to begin
 * unless `given` names a `headersTimeoutMs`. Throws a `RangeError` naming a bad field.
 */
export const callPolicies = (given: Partial<RetryPolicy> = {}): CallPolicies => ({
  anthropic: retryPolicy({ headersTimeoutMs: ANTHROPIC_HEADERS_TIMEOUT_MS, ...given }),
  fyers: retryPolicy(given),
})

/** What a provider call needs from the app around it, the same for every request. */
export interface CallDeps {
  readonly registry: SecretRegistry
  /** Where every upstream call is reported, exactly once. */
  readonly reporter: CallReporter
  /** Timeouts and retries, by provider. */
  readonly policies: CallPolicies
  /** The fetch used for every upstream call. @default globalThis.fetch */
  readonly fetch?: typeof fetch
  /**
   * What replaces a Fyers access token every secret of which was rejected: a refreshed one.
   * @default none: a rejection reaches the client
   */
  /**
   * Told of each failover (fingerprints only), e.g. for the rotation events log; awaited
   * before the answer goes out, so it must not throw. @default none
   */
  readonly onFailover?: (env: EnvRecord, failover: FailoverEvent) => Promise<void>
  readonly fyersTokens?: {
    afterRejection(env: EnvRecord, rejected: readonly Secret[]): Promise<Secret | undefined>
  }
}

/** A failover, as {@link CallDeps.onFailover} hears of it. */
export interface FailoverEvent {
  readonly provider: 'anthropic' | 'fyers'
  readonly credential: string
  /** Fingerprints (`…ABCD`) of the rejected secret and the next one that worked. */
  readonly from: string
  readonly to: string
}

/** What a provider call needs from the request it serves. */
export interface CallScope {
  /** The environment the request sees, for a fresh look at the secrets on a rejection. */
  readonly env: EnvRecord
  /** The request's redactor: it knows every secret the request may hold. */
  readonly redactor: () => Redactor
  /** Aborts the call, e.g. when the client goes away. */
  readonly signal?: AbortSignal
  /** The name of the client token the request came with, when it came through `clientAuth`. */
  readonly client?: string
  /** Told the token usage of each successful call (a client's token quota). @default none */
  readonly onUsage?: (usage: TokenUsage) => void
}

/** What {@link withFailover} returns: the outcome and which slot's secret produced it. */
export interface FailoverResult<T> {
  readonly outcome: T
  readonly slot: 'current' | 'next'
  /** `true` when the current secret was rejected and the next one worked. */
  readonly failedOver: boolean
  /** The secret that produced the outcome (the last one tried). */
  readonly secret: Secret
}

/** One upstream call with the credential that rotates. */
export interface FailoverCall<T> {
  readonly provider: 'anthropic' | 'fyers'
  /** The rotating credential, e.g. `apiKey` or `accessToken`. */
  readonly credential: string
  readonly current: Secret
  /** The next secret the request started with. */
  readonly staged: Secret | undefined
  /** Makes the upstream call with one secret. */
  readonly attempt: (secret: Secret) => Promise<T>
  /** Whether an outcome means the secret was rejected (HTTP 401 or the provider's code). */
  readonly rejected: (outcome: T) => boolean
  /** Releases an outcome that is dropped in favour of a retry (e.g. cancels its body). */
  readonly discard?: (outcome: T) => Promise<void> | void
}

const slotOf = (secret: Secret): 'current' | 'next' =>
  secret.slot === 'next' || secret.source.startsWith('promoted:') ? 'next' : 'current'

/**
 * The secret to try after `rejected` was refused: the provider's credential read afresh (a
 * rotation may have changed the current value or staged a next one while the request was in
 * flight), else the next secret the request started with.
 */
const alternativeSecret = async <T>(
  deps: CallDeps,
  scope: CallScope,
  call: FailoverCall<T>
): Promise<Secret | undefined> => {
  try {
    const fresh = await deps.registry.resolveProvider(scope.env, call.provider)
    const state = (fresh.credentials as Record<string, { current?: Secret; next?: Secret }>)[
      call.credential
    ]
    if (state?.current && state.current.reveal() !== call.current.reveal()) return state.current
    return state?.next ?? call.staged
  } catch {
    return call.staged
  }
}

/**
 * Calls the upstream with the current secret; when it is rejected and another secret is
 * available (a staged next one, or a current one that changed in the meantime, read afresh only
 * on a rejection), calls once more with it. A next secret that works is promoted, so it is used
 * from then on, and counted as a failover.
 */
export const withFailover = async <T>(
  deps: CallDeps,
  scope: CallScope,
  call: FailoverCall<T>
): Promise<FailoverResult<T>> => {
  const { current } = call
  const first = await call.attempt(current)
  if (!call.rejected(first)) {
    return { outcome: first, slot: slotOf(current), failedOver: false, secret: current }
  }
  const other = await alternativeSecret(deps, scope, call)
  if (!other || other.reveal() === current.reveal()) {
    return { outcome: first, slot: slotOf(current), failedOver: false, secret: current }
  }
  await call.discard?.(first)
  const second = await call.attempt(other)
  if (call.rejected(second) || other.slot !== 'next') {
    return { outcome: second, slot: slotOf(other), failedOver: false, secret: other }
  }
  deps.registry.promote(other, current)
  deps.reporter.failover(call.provider)
  await deps.onFailover?.(scope.env, {
    provider: call.provider,
    credential: call.credential,
    from: current.fingerprint,
    to: other.fingerprint,
  })
  return { outcome: second, slot: 'next', failedOver: true, secret: other }
}

/** How a call in {@link traced} ends: set `end` before returning or throwing. */
export interface CallTrace {
  /** How the call ended; unset when the client went away (nothing is reported then). */
  end?: CallEnd
  /** Reports the end later (a stream: when it ends), through `report`, instead of on return. */
  later(): (end: CallEnd) => void
}

/**
 * Runs one provider call and reports it exactly once, from a `finally`: with the `end` the
 * call set, or as a transport failure when it got no answer at all, which is thrown as the
 * client-facing 502/504 {@link KeylineError}. A call the client abandoned (its signal aborted,
 * no `end` set) reports nothing: nobody saw it fail.
 */
export const traced = async <T>(
  deps: CallDeps,
  report: Omit<CallReport, 'end' | 'startedAt'>,
  call: (trace: CallTrace) => Promise<T>
): Promise<T> => {
  const startedAt = Date.now()
  let deferred = false
  const send = (end: CallEnd): void => deps.reporter.call({ ...report, startedAt, end })
  const trace: CallTrace = {
    later: () => {
      deferred = true
      return send
    },
  }
  try {
    return await call(trace)
  } catch (error) {
    if (!(error instanceof UpstreamError)) throw error
    trace.end = { ok: false, facts: transportFacts(error) }
    throw error.toKeylineError(report.provider)
  } finally {
    if (!deferred && trace.end) send(trace.end)
  }
}

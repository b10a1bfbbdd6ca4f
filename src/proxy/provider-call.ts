import type { Context } from 'hono'
import type { ProviderId } from '../secrets/definitions.ts'
import type { Secret } from '../secrets/secret.ts'
import { alternativeSecret } from './alternative-secret.ts'
import { type FailoverResult, withFailover } from './failover.ts'
import { type CallEnd, transportFacts } from './observe.ts'
import type { ProxyDeps } from './proxy-deps.ts'
import { UpstreamError } from './upstream-error.ts'
import { upstreamFailure } from './upstream-failure.ts'

/** One proxied upstream call with the credential that rotates. */
export interface ProviderCall<T> {
  readonly provider: ProviderId
  /** The rotating credential, e.g. `apiKey` or `accessToken`. */
  readonly credential: string
  readonly current: Secret
  /** The next secret the request started with. */
  readonly staged: Secret | undefined
  readonly call: (secret: Secret) => Promise<T>
  readonly rejected: (outcome: T) => boolean
  readonly discard?: (outcome: T) => Promise<void> | void
  /** Reports how the call ended (only transport failures are reported here). */
  readonly observe: (end: CallEnd) => void
}

/**
 * Rethrows `error`; one that got no answer at all ({@link UpstreamError}) is first reported
 * through `observe` and turned into the client-facing 502/504.
 */
export const rethrowUpstream = (
  provider: ProviderId,
  observe: (end: CallEnd) => void,
  error: unknown
): never => {
  if (!(error instanceof UpstreamError)) throw error
  observe({ ok: false, facts: transportFacts(error) })
  throw upstreamFailure(provider, error)
}

/**
 * Calls a provider with key failover ({@link withFailover}): on a rejection it re-reads the
 * secrets for another one, and a next secret that works is promoted and counted as a failover.
 * A call that got no answer at all is reported and thrown as the client-facing 502/504.
 */
export const providerCall = <T>(
  c: Context,
  deps: ProxyDeps,
  call: ProviderCall<T>
): Promise<FailoverResult<T>> =>
  withFailover({
    current: call.current,
    alternative: () =>
      alternativeSecret(
        c,
        deps.registry,
        deps.env,
        call.provider,
        call.credential,
        call.current,
        call.staged
      ),
    call: call.call,
    rejected: call.rejected,
    discard: call.discard,
    onFailover: (next, replaced) => {
      deps.registry.promote(next, replaced)
      deps.observer.failover(call.provider)
    },
  }).catch((error: unknown) => rethrowUpstream(call.provider, call.observe, error))

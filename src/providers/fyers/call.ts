/**
 * keyline's Fyers call: the validity probe, and the one upstream call with failover, retries,
 * refresh and metrics that the quotes route and `c.var.fyers` both take.
 */

import { FYERS_PROFILE_PATH } from '../../catalog/fyers.ts'
import { type ProbeVerdict, verdictOfStatus } from '../../catalog/outcomes.ts'
import { KeylineError } from '../../errors/keyline-error.ts'
import { ProviderNotConfiguredError } from '../../errors/provider-not-configured.ts'
import type { ProviderSnapshot } from '../../secrets/registry.ts'
import type { Secret } from '../../secrets/secret.ts'
import { upstreamFetch } from '../../upstream/fetch.ts'
import { readBody } from '../../upstream/stream.ts'
import { type CallDeps, type CallScope, traced, withFailover } from '../call.ts'
import {
  checkQuotes,
  type FyersCallOptions,
  type FyersClient,
  type FyersEnvelope,
  type FyersQuotesResponse,
  fyersAuthorization,
  type Outcome,
  quotesPath,
  readEnvelope,
} from './client.ts'

// ── Validity probe ───────────────────────────────────────────────────────────────────────────

/**
 * `GET {baseUrl}/api/v3/profile` with `Authorization: <client_id>:<token>`: valid iff HTTP 200
 * and `s == "ok"`. Fyers answers some rejections as HTTP 200 with `s: "error"`; a rate-limit
 * code says nothing about the token.
 */
export const probeFyers = async (
  snapshot: ProviderSnapshot<'fyers'>,
  token: Secret,
  doFetch: typeof fetch,
  signal: AbortSignal
): Promise<ProbeVerdict> => {
  const clientId = snapshot.credentials.clientId.current
  if (!clientId) return { state: 'unknown', reason: 'client_id_missing' }
  const response = await doFetch(`${snapshot.settings.baseUrl}${FYERS_PROFILE_PATH}`, {
    method: 'GET',
    headers: fyersAuthorization(clientId.reveal(), token.reveal()),
    redirect: 'manual',
    signal,
  })
  const outcome = readEnvelope(response, await response.text().catch(() => ''))
  if (!('error' in outcome)) return { state: 'valid' }
  const { error } = outcome
  if (response.status !== 200) return verdictOfStatus(response.status)
  if (error.isRateLimited) return { state: 'unknown', reason: `fyers_code_${error.code}` }
  return {
    state: 'invalid',
    reason: error.code === undefined ? 'fyers_not_ok' : `fyers_code_${error.code}`,
  }
}

// ── The upstream call ────────────────────────────────────────────────────────────────────────

type Snapshot = ProviderSnapshot<'fyers'>

/** Every Fyers answer is read whole (an envelope). */
const everyAnswer = (): boolean => true

/**
 * Calls Fyers with the current access token, with the retry policy's timeouts and retries,
 * failing over to the next token when Fyers rejects it (HTTP 401 or an authentication code),
 * and reports the call exactly once. Resolves with the envelope; a failed answer throws its
 * {@link FyersApiError} (a client-facing {@link KeylineError}), no answer at all a 502/504.
 */
const callFyers = async <T extends FyersEnvelope>(
  deps: CallDeps,
  scope: CallScope,
  snapshot: Snapshot,
  operation: string,
  path: string,
  check: (outcome: Outcome<FyersEnvelope>) => Outcome<T>
): Promise<{ envelope: T; slot: 'current' | 'next' }> => {
  const clientId = snapshot.credentials.clientId.current
  const current = snapshot.credentials.accessToken.current
  if (!snapshot.configured || !clientId || !current) {
    throw new ProviderNotConfiguredError('fyers', snapshot.issues)
  }
  const { policy } = deps
  const { signal } = scope
  const url = `${snapshot.settings.baseUrl}${path}`
  const reported = { provider: 'fyers', operation, baseUrl: snapshot.settings.baseUrl } as const
  return traced(deps, reported, async (trace) => {
    const attempt = async (token: Secret): Promise<Outcome<T>> => {
      const headers = new Headers(fyersAuthorization(clientId.reveal(), token.reveal()))
      const response = await upstreamFetch(
        { url, method: 'GET', headers },
        // Read whole there, so an answer that breaks off half-way is retried.
        { policy, signal, fetch: deps.fetch, whole: everyAnswer }
      )
      return check(readEnvelope(response, await readBody(response, policy.idleTimeoutMs, signal)))
    }
    const rejected = (outcome: Outcome<T>): boolean =>
      'error' in outcome && outcome.error.isAuthError
    const result = await withFailover(deps, scope, {
      provider: 'fyers',
      credential: 'accessToken',
      current,
      staged: snapshot.credentials.accessToken.next,
      attempt,
      rejected,
    })
    let { outcome } = result
    // Every token was rejected (typically: it expired at 06:00 IST): refresh it once and retry.
    if (rejected(outcome) && deps.fyersTokens) {
      const refreshed = await deps.fyersTokens.afterRejection(scope.env, [current, result.secret])
      if (refreshed) outcome = await attempt(refreshed)
    }
    if ('error' in outcome) {
      trace.end = { ok: false, facts: outcome.error.facts }
      throw outcome.error
    }
    trace.end = { ok: true }
    return { envelope: outcome.ok, slot: result.slot }
  })
}

/** A quotes call's answer and which token slot produced it. */
export interface QuotesResult {
  readonly quotes: FyersQuotesResponse
  /** The envelope as JSON text to relay, any secret Fyers echoed replaced by its fingerprint. */
  readonly body: string
  readonly slot: 'current' | 'next'
  /** How many symbols Fyers could not quote (`d[i].s != "ok"`). */
  readonly failedSymbols: number
}

/** `GET /data/quotes` through {@link callFyers}. */
export const fyersQuotes = async (
  deps: CallDeps,
  scope: CallScope,
  snapshot: Snapshot,
  symbols: readonly string[]
): Promise<QuotesResult> => {
  const path = quotesPath(symbols)
  const { envelope, slot } = await callFyers(deps, scope, snapshot, 'quotes', path, checkQuotes)
  const failedSymbols = envelope.d.filter((quote) => quote.s !== 'ok').length
  const body = scope.redactor().redactBody(JSON.stringify(envelope))
  return { quotes: envelope, body, slot, failedSymbols }
}

/**
 * A Fyers client whose every call takes {@link callFyers} (`c.var.fyers`), so it gets the same
 * failover, retries, error mapping and metrics as the proxy route.
 */
export const fyersClientFor = (
  deps: CallDeps,
  scope: CallScope,
  snapshot: Snapshot
): FyersClient => {
  const within = (options: FyersCallOptions | undefined): CallScope =>
    options?.signal ? { ...scope, signal: options.signal } : scope
  return {
    quotes: async (symbols, options) =>
      (await fyersQuotes(deps, within(options), snapshot, symbols)).quotes,
    profile: async (options) =>
      (await callFyers(deps, within(options), snapshot, 'profile', FYERS_PROFILE_PATH, (o) => o))
        .envelope,
  }
}

/**
 * keyline's Fyers call: the validity probe, and the one upstream call with failover, retries,
 * refresh and metrics that the quotes route and `c.var.fyers` both take.
 */

import { FYERS_CLIENT_ERROR_TYPES, FYERS_PROFILE_PATH } from '../../catalog/fyers.ts'
import { type ProbeVerdict, verdictOfStatus } from '../../catalog/outcomes.ts'
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
  type FyersRequest,
  fyersAuthorization,
  fyersClientOver,
  type Outcome,
  quotesPath,
  readEnvelope,
} from './client.ts'
import { tradingRefusal } from './trading.ts'

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

/** What one Fyers call answered: its outcome, HTTP status and text, and the slot that answered. */
interface Answered<T extends FyersEnvelope> {
  readonly outcome: Outcome<T>
  readonly status: number
  readonly text: string
  readonly slot: 'current' | 'next'
}

/**
 * Calls Fyers with the current access token, failing over to the next token when Fyers rejects
 * it (HTTP 401 or an authentication code), refreshing it once when every token was rejected, and
 * reports the call exactly once. A read (`GET`) takes the retry policy's retries; any other
 * call (an order) is never retried, since a lost answer may hide a placed order (a rejected
 * token is sent again: Fyers did nothing with it). No answer at all throws a 502/504.
 */
const answerFyers = async <T extends FyersEnvelope>(
  deps: CallDeps,
  scope: CallScope,
  snapshot: Snapshot,
  operation: string,
  request: FyersRequest,
  check: (outcome: Outcome<FyersEnvelope>) => Outcome<T>
): Promise<Answered<T>> => {
  const clientId = snapshot.credentials.clientId.current
  const current = snapshot.credentials.accessToken.current
  if (!snapshot.configured || !clientId || !current) {
    throw new ProviderNotConfiguredError('fyers', snapshot.issues)
  }
  const { method, body } = request
  const policy = method === 'GET' ? deps.policies.fyers : { ...deps.policies.fyers, maxRetries: 0 }
  const { signal } = scope
  const url = `${snapshot.settings.baseUrl}${request.path}`
  const reported = {
    provider: 'fyers',
    operation,
    method,
    baseUrl: snapshot.settings.baseUrl,
  } as const
  return traced(deps, reported, async (trace) => {
    let status = 0
    let text = ''
    const attempt = async (token: Secret): Promise<Outcome<T>> => {
      const headers: Record<string, string> = {
        ...fyersAuthorization(clientId.reveal(), token.reveal()),
      }
      if (body !== undefined) headers['content-type'] = request.contentType ?? 'application/json'
      const response = await upstreamFetch(
        { url, method, headers, body },
        // Read whole there, so an answer that breaks off half-way is retried (reads only:
        // an order's policy has no retries).
        { policy, signal, fetch: deps.fetch, whole: everyAnswer }
      )
      status = response.status
      text = (await readBody(response, policy.idleTimeoutMs, signal)).text
      return check(readEnvelope(response, text))
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
    trace.end = 'error' in outcome ? { ok: false, facts: outcome.error.facts } : { ok: true }
    return { outcome, status, text, slot: result.slot }
  })
}

/** The envelope of an answer; a failed one throws its {@link FyersApiError}. */
const envelopeOf = <T extends FyersEnvelope>(
  answered: Answered<T>
): { envelope: T; slot: 'current' | 'next' } => {
  if ('error' in answered.outcome) throw answered.outcome.error
  return { envelope: answered.outcome.ok, slot: answered.slot }
}

/** What `/fyers/*` answers: Fyers' own body (redacted), status and content type. */
export interface FyersAnswer {
  readonly body: string
  readonly status: number
  readonly slot: 'current' | 'next'
  /** Whether Fyers said ok (HTTP status and `s`); else the code it sent, if any. */
  readonly ok: boolean
  readonly fyersCode?: number
}

/**
 * One `/fyers/*` call, path and query as the client sent them: Fyers' answer relayed as it came
 * (any secret it echoed replaced by its fingerprint), its own error too when the client's
 * request caused it (an unknown symbol, a bad parameter, a refused order); a rejected token, rate
 * limiting, an upstream failure or an answer that is not Fyers' envelope become keyline's
 * error, as for quotes.
 */
export const fyersPassthrough = async (
  deps: CallDeps,
  scope: CallScope,
  snapshot: Snapshot,
  operation: string,
  request: FyersRequest
): Promise<FyersAnswer> => {
  const answered = await answerFyers(deps, scope, snapshot, operation, request, (o) => o)
  const { outcome } = answered
  if ('error' in outcome && !FYERS_CLIENT_ERROR_TYPES.includes(outcome.error.errorType)) {
    throw outcome.error
  }
  const body = scope.redactor().redactBody(answered.text)
  const { status, slot } = answered
  return 'error' in outcome
    ? { body, status, slot, ok: false, fyersCode: outcome.error.code }
    : { body, status, slot, ok: true }
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

/** `GET /data/quotes` through {@link answerFyers}. */
export const fyersQuotes = async (
  deps: CallDeps,
  scope: CallScope,
  snapshot: Snapshot,
  symbols: readonly string[]
): Promise<QuotesResult> => {
  const request = { method: 'GET', path: quotesPath(symbols) }
  const { envelope, slot } = envelopeOf(
    await answerFyers(deps, scope, snapshot, 'quotes', request, checkQuotes)
  )
  const failedSymbols = envelope.d.filter((quote) => quote.s !== 'ok').length
  const body = scope.redactor().redactBody(JSON.stringify(envelope))
  return { quotes: envelope, body, slot, failedSymbols }
}

/**
 * A Fyers client whose every call takes {@link answerFyers} (`c.var.fyers`), so it gets the same
 * failover, retries, error mapping, trading switch and metrics as the proxy routes.
 */
export const fyersClientFor = (
  deps: CallDeps,
  scope: CallScope,
  snapshot: Snapshot
): FyersClient => {
  const within = (options: FyersCallOptions | undefined): CallScope =>
    options?.signal ? { ...scope, signal: options.signal } : scope
  const client = fyersClientOver(async (operation, request, options) => {
    if (request.method !== 'GET') {
      const refusal = tradingRefusal(scope.env, scope.client, operation)
      if (refusal) throw refusal
    }
    const answered = await answerFyers(
      deps,
      within(options),
      snapshot,
      operation,
      request,
      (o) => o
    )
    return envelopeOf(answered).envelope as never
  })
  client.quotes = async (symbols, options) =>
    (await fyersQuotes(deps, within(options), snapshot, symbols)).quotes
  return client
}

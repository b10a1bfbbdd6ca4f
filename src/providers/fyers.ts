/**
 * Everything keyline knows about Fyers API v3: its credentials and settings, its hosts, the
 * one table of its error codes (used alike by failover, client errors and telemetry), its
 * wire client, the cheap call that proves a token works, and the one upstream call with
 * failover that the quotes route and `c.var.fyers` both take.
 */

import {
  FYERS_DEFAULT_BASE_URL,
  FYERS_PROFILE_PATH,
  type FyersErrorType,
  fyersErrorType,
} from '../catalog/fyers.ts'
import { type FailureFacts, type ProbeVerdict, verdictOfStatus } from '../catalog/outcomes.ts'
import { sha256Hex } from '../digest.ts'
import { KeylineError } from '../errors/keyline-error.ts'
import { ProviderNotConfiguredError } from '../errors/provider-not-configured.ts'
import type { ProviderSnapshot } from '../secrets/registry.ts'
import type { Secret } from '../secrets/secret.ts'
import { upstreamFetch } from '../upstream/fetch.ts'
import { readBody } from '../upstream/stream.ts'
import { type CallDeps, type CallScope, traced, withFailover } from './call.ts'

// ── Wire client ──────────────────────────────────────────────────────────────────────────────

/** Fyers' response envelope: `s` is `ok` or `error`, `code` a Fyers code, `d`/`data` the payload. */
export interface FyersEnvelope {
  s: string
  code?: number
  message?: string
  d?: unknown
  data?: unknown
  [key: string]: unknown
}

/** One entry of a quotes response: `n` the symbol, `s` its own status, `v` its values. */
export interface FyersQuote {
  n: string
  s: string
  v: Record<string, unknown> & { errmsg?: string; code?: number }
}

/** A successful quotes response. */
export interface FyersQuotesResponse extends FyersEnvelope {
  d: FyersQuote[]
}

/**
 * A failed Fyers call, as a client may see it: a {@link KeylineError} whose type, status and
 * message follow the code table (`upstream_auth_failed` 502 for a rejected token,
 * `rate_limited` 429, else `upstream_error` 502), with the HTTP status and Fyers `code` kept.
 * Fyers' own message is in {@link fyersMessage} only: redact it before it reaches a client or
 * a log.
 */
export class FyersApiError extends KeylineError {
  override name = 'FyersApiError'
  readonly httpStatus: number
  readonly code: number | undefined
  readonly body: FyersEnvelope | undefined
  /** Fyers' own message, or what was wrong with its answer. */
  readonly fyersMessage: string
  /** The upstream's `retry-after` header, when it sent one. */
  readonly retryAfter: string | undefined
  /** The bounded `error.type` of this failure. */
  readonly errorType: FyersErrorType | '_OTHER'

  constructor(
    httpStatus: number,
    body: FyersEnvelope | undefined,
    message?: string,
    retryAfter?: string
  ) {
    const code = typeof body?.code === 'number' ? body.code : undefined
    const errorType = fyersErrorType({
      httpStatus,
      fyersCode: code,
      invalidResponse: body === undefined,
    })
    const details = { provider: 'fyers', fyers_code: code ?? null, upstream_status: httpStatus }
    if (errorType === 'authentication_error') {
      super(
        502,
        'upstream_auth_failed',
        'Fyers rejected the access token: refresh it or rotate FYERS_ACCESS_TOKEN',
        { details }
      )
    } else if (errorType === 'rate_limit_error') {
      super(429, 'rate_limited', 'Fyers is rate limiting requests; retry later', {
        details,
        headers: retryAfter ? { 'retry-after': retryAfter } : {},
      })
    } else {
      super(502, 'upstream_error', 'Fyers could not answer the request', { details })
    }
    this.httpStatus = httpStatus
    this.code = code
    this.body = body
    this.fyersMessage = message ?? body?.message ?? `Fyers answered HTTP ${httpStatus}`
    this.retryAfter = retryAfter
    this.errorType = errorType
  }

  /** The token was rejected: HTTP 401 or an authentication code. */
  get isAuthError(): boolean {
    return this.errorType === 'authentication_error'
  }

  /** Fyers is rate limiting: HTTP 429 or a rate-limit code. */
  get isRateLimited(): boolean {
    return this.errorType === 'rate_limit_error'
  }

  /** The failure facts of this answer, for telemetry. */
  get facts(): FailureFacts {
    return {
      httpStatus: this.httpStatus,
      fyersCode: this.code,
      invalidResponse: this.body === undefined,
    }
  }
}

/** The answer of one Fyers call: its envelope, or the error it means. */
type Outcome<T extends FyersEnvelope> = { ok: T } | { error: FyersApiError }

/** Reads a Fyers answer: ok only when both the HTTP status and `s` say so. */
const readEnvelope = (response: Response, text: string): Outcome<FyersEnvelope> => {
  let body: unknown
  try {
    body = JSON.parse(text)
  } catch {
    body = undefined
  }
  if (!body || typeof body !== 'object' || Array.isArray(body)) {
    const message = `Fyers answered HTTP ${response.status} without a JSON envelope`
    return { error: new FyersApiError(response.status, undefined, message) }
  }
  const envelope = body as FyersEnvelope
  if (!response.ok || envelope.s !== 'ok') {
    const retryAfter = response.headers.get('retry-after') ?? undefined
    return { error: new FyersApiError(response.status, envelope, undefined, retryAfter) }
  }
  return { ok: envelope }
}

const quotesPath = (symbols: readonly string[]): string => {
  if (symbols.length === 0) throw new TypeError('quotes() needs at least one symbol')
  return `/data/quotes?${new URLSearchParams({ symbols: symbols.join(',') })}`
}

const checkQuotes = (outcome: Outcome<FyersEnvelope>): Outcome<FyersQuotesResponse> => {
  if ('error' in outcome || Array.isArray(outcome.ok.d)) {
    return outcome as Outcome<FyersQuotesResponse>
  }
  return { error: new FyersApiError(200, undefined, 'Fyers quotes answer has no `d` array') }
}

const authorization = (clientId: string, accessToken: string): Record<string, string> => ({
  authorization: `${clientId}:${accessToken}`,
  accept: 'application/json',
})

/** Options of {@link createFyersClient}. */
export interface FyersClientOptions {
  /** The app id, e.g. `ABCD1234-100`. */
  clientId: string
  accessToken: string
  /** @default 'https://api-t1.fyers.in' */
  baseUrl?: string
  /** The fetch used for every call, e.g. one with timeouts and retries. @default globalThis.fetch */
  fetch?: typeof fetch
}

/** Per-call options. */
export interface FyersCallOptions {
  signal?: AbortSignal
}

/** A typed Fyers API v3 client over `fetch`, usable on Workers, Node and Deno. */
export interface FyersClient {
  /** `GET /data/quotes?symbols=…`: quotes for symbols of the form `EXCHANGE:SYMBOL`. */
  quotes(symbols: readonly string[], options?: FyersCallOptions): Promise<FyersQuotesResponse>
  /** `GET /api/v3/profile`: the cheap authenticated call that proves a token works. */
  profile(options?: FyersCallOptions): Promise<FyersEnvelope>
}

const unwrap = <T extends FyersEnvelope>(outcome: Outcome<T>): T => {
  if ('error' in outcome) throw outcome.error
  return outcome.ok
}

/**
 * Builds a standalone Fyers client that sends `Authorization: <client_id>:<access_token>`,
 * never follows redirects, and throws {@link FyersApiError} unless both the HTTP status and
 * `s` say ok. (Inside keyline, `c.var.fyers` adds failover, retries and metrics.)
 */
export const createFyersClient = (options: FyersClientOptions): FyersClient => {
  const { clientId, accessToken } = options
  if (!clientId || !accessToken) throw new TypeError('clientId and accessToken are required')
  const baseUrl = (options.baseUrl ?? FYERS_DEFAULT_BASE_URL).replace(/\/+$/, '')
  const doFetch = options.fetch ?? ((input, init) => fetch(input, init))
  const call = async (path: string, signal?: AbortSignal): Promise<Outcome<FyersEnvelope>> => {
    const response = await doFetch(`${baseUrl}${path}`, {
      method: 'GET',
      headers: authorization(clientId, accessToken),
      redirect: 'manual',
      signal,
    })
    return readEnvelope(response, await response.text())
  }
  return {
    quotes: async (symbols, callOptions) =>
      unwrap(checkQuotes(await call(quotesPath(symbols), callOptions?.signal))),
    profile: async (callOptions) => unwrap(await call(FYERS_PROFILE_PATH, callOptions?.signal)),
  }
}

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
    headers: authorization(clientId.reveal(), token.reveal()),
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

// ── Tokens: sign-in and refresh ──────────────────────────────────────────────────────────────

/** Fyers' `appIdHash`: lower-case hex SHA-256 of `<client_id>:<app_secret>`. */
export const fyersAppIdHash = (clientId: string, appSecret: string): string =>
  sha256Hex(`${clientId}:${appSecret}`)

/** The URL that starts a Fyers sign-in: the user signs in there and returns to `redirectUri`. */
export const fyersSignInUrl = (
  baseUrl: string,
  params: { clientId: string; redirectUri: string; state: string }
): string =>
  `${baseUrl}/api/v3/generate-authcode?${new URLSearchParams({
    client_id: params.clientId,
    redirect_uri: params.redirectUri,
    response_type: 'code',
    state: params.state,
  })}`

/** Tokens Fyers issued: always an access token, a refresh token after a sign-in (maybe after a refresh). */
export interface FyersTokenGrant {
  readonly accessToken: string
  readonly refreshToken?: string
}

/** The app credentials a token call needs. */
export interface FyersAppCredentials {
  readonly baseUrl: string
  readonly clientId: string
  readonly appSecret: string
}

/** Reads a token answer: a grant, or the {@link FyersApiError} it means. */
const readGrant = (response: Response, text: string): FyersTokenGrant | FyersApiError => {
  const outcome = readEnvelope(response, text)
  if ('error' in outcome) return outcome.error
  const { access_token: access, refresh_token: refresh } = outcome.ok
  if (typeof access !== 'string' || access === '') {
    return new FyersApiError(response.status, undefined, 'Fyers answered without an access_token')
  }
  return typeof refresh === 'string' && refresh !== ''
    ? { accessToken: access, refreshToken: refresh }
    : { accessToken: access }
}

const postToken = async (
  doFetch: typeof fetch,
  app: FyersAppCredentials,
  path: string,
  body: Record<string, string>,
  signal?: AbortSignal
): Promise<FyersTokenGrant | FyersApiError> => {
  const response = await doFetch(`${app.baseUrl}${path}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', accept: 'application/json' },
    body: JSON.stringify({ ...body, appIdHash: fyersAppIdHash(app.clientId, app.appSecret) }),
    redirect: 'manual',
    signal,
  })
  return readGrant(response, await response.text())
}

/** `POST /api/v3/validate-authcode`: the auth code of a sign-in for an access and a refresh token. */
export const fyersExchangeAuthCode = (
  doFetch: typeof fetch,
  app: FyersAppCredentials,
  code: string,
  signal?: AbortSignal
): Promise<FyersTokenGrant | FyersApiError> =>
  postToken(
    doFetch,
    app,
    '/api/v3/validate-authcode',
    { grant_type: 'authorization_code', code },
    signal
  )

/** `POST /api/v3/validate-refresh-token`: a new access token from the refresh token and the PIN. */
export const fyersRefreshAccessToken = (
  doFetch: typeof fetch,
  app: FyersAppCredentials,
  refreshToken: string,
  pin: string,
  signal?: AbortSignal
): Promise<FyersTokenGrant | FyersApiError> =>
  postToken(
    doFetch,
    app,
    '/api/v3/validate-refresh-token',
    { grant_type: 'refresh_token', refresh_token: refreshToken, pin },
    signal
  )

// ── The upstream call ────────────────────────────────────────────────────────────────────────

type Snapshot = ProviderSnapshot<'fyers'>

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
      const headers = new Headers(authorization(clientId.reveal(), token.reveal()))
      const response = await upstreamFetch(
        { url, method: 'GET', headers },
        { policy, signal, fetch: deps.fetch }
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

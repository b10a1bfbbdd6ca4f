/**
 * Fyers API v3 on the wire, usable on its own (`keyline/clients/fyers`): the response envelope
 * and its types, the error a failed answer means, a typed standalone client over `fetch`, and
 * the token calls (sign-in code exchange, refresh). Inside keyline, `c.var.fyers` adds
 * failover, retries and metrics (`call.ts`).
 */
import {
  FYERS_DEFAULT_BASE_URL,
  FYERS_PROFILE_PATH,
  type FyersErrorType,
  fyersErrorType,
} from '../../catalog/fyers.ts'
import type { FailureFacts } from '../../catalog/outcomes.ts'
import { sha256Hex } from '../../digest.ts'
import { KeylineError } from '../../errors/keyline-error.ts'

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
export type Outcome<T extends FyersEnvelope> = { ok: T } | { error: FyersApiError }

/** Reads a Fyers answer: ok only when both the HTTP status and `s` say so. */
export const readEnvelope = (response: Response, text: string): Outcome<FyersEnvelope> => {
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

export const quotesPath = (symbols: readonly string[]): string => {
  if (symbols.length === 0) throw new TypeError('quotes() needs at least one symbol')
  return `/data/quotes?${new URLSearchParams({ symbols: symbols.join(',') })}`
}

export const checkQuotes = (outcome: Outcome<FyersEnvelope>): Outcome<FyersQuotesResponse> => {
  if ('error' in outcome || Array.isArray(outcome.ok.d)) {
    return outcome as Outcome<FyersQuotesResponse>
  }
  return { error: new FyersApiError(200, undefined, 'Fyers quotes answer has no `d` array') }
}

export const fyersAuthorization = (
  clientId: string,
  accessToken: string
): Record<string, string> => ({
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
      headers: fyersAuthorization(clientId, accessToken),
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

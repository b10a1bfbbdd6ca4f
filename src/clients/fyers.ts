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

/** Fyers codes that mean the access token is expired, invalid or does not match the app. */
export const FYERS_AUTH_ERROR_CODES: readonly number[] = [-15, -16]

/** Fyers code for too many requests. */
export const FYERS_RATE_LIMIT_CODE = -353

/**
 * A failed Fyers call: the HTTP status, the Fyers `code` and `message` when the body had them.
 * The message is Fyers' own text; redact it before it reaches a client or a log.
 */
export class FyersApiError extends Error {
  override name = 'FyersApiError'
  readonly httpStatus: number
  readonly code: number | undefined
  readonly body: FyersEnvelope | undefined
  /** The upstream's `retry-after` header, when it sent one. */
  readonly retryAfter: string | undefined

  constructor(
    httpStatus: number,
    body: FyersEnvelope | undefined,
    message?: string,
    retryAfter?: string
  ) {
    super(message ?? body?.message ?? `Fyers answered HTTP ${httpStatus}`)
    this.httpStatus = httpStatus
    this.code = typeof body?.code === 'number' ? body.code : undefined
    this.body = body
    this.retryAfter = retryAfter
  }

  /** The token was rejected: HTTP 401 or Fyers codes -15/-16. */
  get isAuthError(): boolean {
    return this.httpStatus === 401 || FYERS_AUTH_ERROR_CODES.includes(this.code ?? 0)
  }

  /** Fyers is rate limiting: HTTP 429 or code -353. */
  get isRateLimited(): boolean {
    return this.httpStatus === 429 || this.code === FYERS_RATE_LIMIT_CODE
  }
}

const parseEnvelope = async (response: Response): Promise<FyersEnvelope | undefined> => {
  const text = await response.text()
  try {
    const body: unknown = JSON.parse(text)
    if (body && typeof body === 'object' && !Array.isArray(body)) return body as FyersEnvelope
  } catch {
    // not JSON: reported below as an unparseable answer
  }
  return undefined
}

/**
 * Builds a Fyers client that sends `Authorization: <client_id>:<access_token>`, never follows
 * redirects, and throws {@link FyersApiError} unless both the HTTP status and `s` say ok.
 */
export const createFyersClient = (options: FyersClientOptions): FyersClient => {
  const { clientId, accessToken } = options
  if (!clientId || !accessToken) throw new TypeError('clientId and accessToken are required')
  const baseUrl = (options.baseUrl ?? 'https://api-t1.fyers.in').replace(/\/+$/, '')
  const doFetch = options.fetch ?? ((input, init) => fetch(input, init))

  const call = async (path: string, callOptions: FyersCallOptions = {}): Promise<FyersEnvelope> => {
    const response = await doFetch(`${baseUrl}${path}`, {
      method: 'GET',
      headers: { authorization: `${clientId}:${accessToken}`, accept: 'application/json' },
      redirect: 'manual',
      signal: callOptions.signal,
    })
    const body = await parseEnvelope(response)
    if (!body) {
      throw new FyersApiError(
        response.status,
        undefined,
        `Fyers answered HTTP ${response.status} without a JSON envelope`
      )
    }
    if (!response.ok || body.s !== 'ok') {
      const retryAfter = response.headers.get('retry-after') ?? undefined
      throw new FyersApiError(response.status, body, undefined, retryAfter)
    }
    return body
  }

  return {
    async quotes(symbols, callOptions) {
      if (symbols.length === 0) throw new TypeError('quotes() needs at least one symbol')
      const query = new URLSearchParams({ symbols: symbols.join(',') })
      const body = await call(`/data/quotes?${query}`, callOptions)
      if (!Array.isArray(body.d)) {
        throw new FyersApiError(200, body, 'Fyers quotes answer has no `d` array')
      }
      return body as FyersQuotesResponse
    },
    profile(callOptions) {
      return call('/api/v3/profile', callOptions)
    },
  }
}

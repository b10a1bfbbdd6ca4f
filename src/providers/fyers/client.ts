/**
 * Fyers API v3 on the wire, usable on its own (`keyline/clients/fyers`): the response envelope
 * and its types, the error a failed answer means, a typed standalone client over `fetch`, and
 * the token calls (sign-in code exchange, refresh). Inside keyline, `c.var.fyers` adds
 * failover, retries and metrics (`call.ts`).
 */
import {
  FYERS_API_VERSION,
  FYERS_DEFAULT_BASE_URL,
  type FyersErrorType,
  fyersCallOf,
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

/** The values of one quoted symbol, as Fyers documents them (`GET /data/quotes`). */
export interface Quote {
  /** Change from the previous close. */
  ch: number
  /** Change from the previous close, in percent. */
  chp: number
  /** Last traded price. */
  lp: number
  spread: number
  ask: number
  bid: number
  open_price: number
  high_price: number
  low_price: number
  prev_close_price: number
  /** Average traded price. */
  atp?: number
  volume: number
  short_name: string
  exchange: string
  description: string
  original_name: string
  symbol: string
  fyToken: string
  /** Time of the quote, epoch seconds. */
  tt: number | string
  /** On a symbol Fyers could not quote (`s: "error"`): why, and its code. */
  errmsg?: string
  code?: number
  [key: string]: unknown
}

/** One entry of a quotes response: `n` the symbol, `s` its own status, `v` its values. */
export interface FyersQuote {
  n: string
  s: string
  v: Quote
}

/** A successful quotes response. */
export interface FyersQuotesResponse extends FyersEnvelope {
  d: FyersQuote[]
}

/** One level of a market depth's book. */
export interface DepthLevel {
  price: number
  volume: number
  /** Number of orders at this price. */
  ord: number
}

/** The market depth of one symbol (`GET /data/depth`). */
export interface Depth {
  totalbuyqty: number
  totalsellqty: number
  bids: DepthLevel[]
  ask: DepthLevel[]
  /** Open, high, low, close (with `ohlcv_flag=1`). */
  o?: number
  h?: number
  l?: number
  c?: number
  ch?: number
  chp?: number
  /** Last traded price, quantity and time. */
  ltp?: number
  ltq?: number
  ltt?: number
  v?: number
  atp?: number
  lower_ckt?: number
  upper_ckt?: number
  expiry?: string
  oi?: number
  [key: string]: unknown
}

/** A market depth response: `d` by symbol. */
export interface FyersDepthResponse extends FyersEnvelope {
  d: Record<string, Depth>
}

/** The query of `GET /data/history` (see Fyers' docs for the resolutions and formats). */
export interface HistoryQuery {
  symbol: string
  /** `1`, `5`, `15`, `60`, `D`, … */
  resolution: string
  /** `0`: `range_from`/`range_to` are epoch seconds; `1`: `yyyy-mm-dd`. */
  date_format: '0' | '1' | 0 | 1
  range_from: string | number
  range_to: string | number
  /** `1` for continuous futures data. */
  cont_flag?: '0' | '1' | 0 | 1
  oi_flag?: '0' | '1' | 0 | 1
}

/** A candle: `[epoch seconds, open, high, low, close, volume]` (and open interest with `oi_flag`). */
export type Candle = [number, number, number, number, number, number, ...number[]]

/** A history response. */
export interface FyersHistoryResponse extends FyersEnvelope {
  candles: Candle[]
}

/** A market status response. */
export interface FyersMarketStatusResponse extends FyersEnvelope {
  marketStatus: {
    exchange: number
    market_type: string
    segment: number
    status: string
    [key: string]: unknown
  }[]
}

/** A profile response. */
export interface FyersProfileResponse extends FyersEnvelope {
  data: { fy_id: string; name: string; email_id?: string; [key: string]: unknown }
}

/** A funds response: one row per limit (`Total Balance`, `Available Balance`, …). */
export interface FyersFundsResponse extends FyersEnvelope {
  fund_limit: { id: number; title: string; equityAmount: number; commodityAmount: number }[]
}

/** Fields every holding, position, order and trade has; the rest as Fyers sends them. */
interface Row {
  symbol: string
  fyToken?: string
  [key: string]: unknown
}

/** A holdings response. */
export interface FyersHoldingsResponse extends FyersEnvelope {
  holdings: (Row & { quantity: number; costPrice: number; ltp: number; pl: number })[]
  overall: Record<string, number>
}

/** A positions response. */
export interface FyersPositionsResponse extends FyersEnvelope {
  netPositions: (Row & { id: string; netQty: number; ltp: number; pl: number })[]
  overall: Record<string, number>
}

/** An order book response. */
export interface FyersOrdersResponse extends FyersEnvelope {
  orderBook: (Row & { id: string; status: number; qty: number; side: number; type: number })[]
}

/** A trade book response. */
export interface FyersTradebookResponse extends FyersEnvelope {
  tradeBook: (Row & { orderNumber: string; tradedQty: number; tradePrice: number })[]
}

/** An order to place (`POST /api/v3/orders/sync`), as Fyers documents it. */
export interface OrderRequest {
  symbol: string
  qty: number
  /** 1 limit, 2 market, 3 stop (SL-M), 4 stop-limit (SL-L). */
  type: 1 | 2 | 3 | 4
  /** 1 buy, -1 sell. */
  side: 1 | -1
  productType: 'CNC' | 'INTRADAY' | 'MARGIN' | 'CO' | 'BO' | 'MTF'
  limitPrice: number
  stopPrice: number
  validity: 'DAY' | 'IOC'
  disclosedQty: number
  offlineOrder: boolean
  stopLoss?: number
  takeProfit?: number
  orderTag?: string
  [key: string]: unknown
}

/** A change to an open order (`PATCH /api/v3/orders/sync`). */
export interface ModifyOrderRequest {
  id: string
  type?: number
  limitPrice?: number
  stopPrice?: number
  qty?: number
  [key: string]: unknown
}

/** A position to convert (`POST /api/v3/positions`). */
export interface ConvertPositionRequest {
  symbol: string
  positionSide: 1 | -1
  convertQty: number
  convertFrom: string
  convertTo: string
  overnight?: 0 | 1
  [key: string]: unknown
}

/** The answer to an order call: the order's `id`. */
export interface FyersOrderResponse extends FyersEnvelope {
  id?: string
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

/** The headers of every Fyers call, as the official SDK sends them: `appId:token` and `version`. */
export const fyersAuthorization = (
  clientId: string,
  accessToken: string
): Record<string, string> => ({
  authorization: `${clientId}:${accessToken}`,
  version: FYERS_API_VERSION,
  accept: 'application/json',
})

/** One call to the Fyers API. */
export interface FyersRequest {
  readonly method: string
  /** The API path with its query, e.g. `/data/depth?symbol=NSE:SBIN-EQ&ohlcv_flag=1`. */
  readonly path: string
  /** The request body, sent unchanged (a trading call's JSON). */
  readonly body?: string | Uint8Array<ArrayBuffer>
  /** The body's content type. @default `application/json` when there is a body */
  readonly contentType?: string
}

type Query = Record<string, string | number | undefined>

/**
 * The call of an operation (see the catalog's table): a read's query (its defined fields), or a
 * trading call's JSON body.
 */
const callOf = (operation: string, query: Query = {}, body?: unknown): FyersRequest => {
  const [method, path] = fyersCallOf(operation)
  const defined = Object.entries(query).filter(([, v]) => v !== undefined)
  const search = defined.length ? `?${new URLSearchParams(defined as [string, string][])}` : ''
  return {
    method,
    path: path + search,
    body: body === undefined ? undefined : JSON.stringify(body),
  }
}

/** Sends one call and resolves with the envelope, or throws what a failed answer means. */
export type FyersSend = <T extends FyersEnvelope>(
  operation: string,
  request: FyersRequest,
  options: FyersCallOptions | undefined
) => Promise<T>

/**
 * The typed client over one `send`: the standalone client's (fetch) and `c.var.fyers`'s (with
 * keyline's failover, retries, trading switch and metrics) are the same methods.
 */
export const fyersClientOver = (send: FyersSend): FyersClient => {
  const call =
    <T extends FyersEnvelope>(operation: string) =>
    (options?: FyersCallOptions): Promise<T> =>
      send(operation, callOf(operation), options)
  const trade =
    <A>(operation: string, body: (arg: A) => unknown = (arg) => arg) =>
    (arg: A, options?: FyersCallOptions) =>
      send(operation, callOf(operation, {}, body(arg) ?? {}), options)
  return {
    quotes: async (symbols, options) =>
      unwrap(
        checkQuotes({
          ok: await send('quotes', { method: 'GET', path: quotesPath(symbols) }, options),
        })
      ),
    depth: (symbols, options) =>
      send(
        'depth',
        callOf('depth', {
          symbol: symbols.join(','),
          ohlcv_flag: options?.ohlcv === false ? 0 : 1,
        }),
        options
      ),
    history: (query, options) => send('history', callOf('history', { ...query }), options),
    marketStatus: call('market_status'),
    profile: call('profile'),
    funds: call('funds'),
    holdings: call('holdings'),
    positions: call('positions'),
    orders: (options) => send('orders', callOf('orders', { id: options?.id }), options),
    tradebook: call('tradebook'),
    placeOrder: trade('place_order'),
    modifyOrder: trade('modify_order'),
    cancelOrder: trade('cancel_order', (id: string) => ({ id })),
    convertPosition: trade('convert_position'),
    exitPositions: trade('exit_position'),
  }
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
  /**
   * Whether the trading calls (orders, position conversions) may be made.
   * @default false
   */
  trading?: boolean
}

/** Per-call options. */
export interface FyersCallOptions {
  signal?: AbortSignal
}

/**
 * A typed Fyers API v3 client, usable on Workers, Node and Deno. Reads are `GET`s; the trading
 * calls (`placeOrder`, `modifyOrder`, `cancelOrder`, `convertPosition`, `exitPositions`) are
 * refused unless trading is switched on (`KEYLINE_FYERS_TRADING=on` for `c.var.fyers`,
 * `trading: true` for a standalone client).
 */
export interface FyersClient {
  /** `GET /data/quotes?symbols=…`: quotes for symbols of the form `EXCHANGE:SYMBOL`. */
  quotes(symbols: readonly string[], options?: FyersCallOptions): Promise<FyersQuotesResponse>
  /** `GET /data/depth?symbol=…&ohlcv_flag=1`: the market depth of symbols (`ohlcv: false` drops OHLCV). */
  depth(
    symbols: readonly string[],
    options?: FyersCallOptions & { ohlcv?: boolean }
  ): Promise<FyersDepthResponse>
  /** `GET /data/history?symbol&resolution&date_format&range_from&range_to&cont_flag`: candles. */
  history(query: HistoryQuery, options?: FyersCallOptions): Promise<FyersHistoryResponse>
  /** `GET /data/marketStatus`: whether each exchange and segment is open. */
  marketStatus(options?: FyersCallOptions): Promise<FyersMarketStatusResponse>
  /** `GET /api/v3/profile`: the cheap authenticated call that proves a token works. */
  profile(options?: FyersCallOptions): Promise<FyersProfileResponse>
  /** `GET /api/v3/funds`. */
  funds(options?: FyersCallOptions): Promise<FyersFundsResponse>
  /** `GET /api/v3/holdings`. */
  holdings(options?: FyersCallOptions): Promise<FyersHoldingsResponse>
  /** `GET /api/v3/positions`. */
  positions(options?: FyersCallOptions): Promise<FyersPositionsResponse>
  /** `GET /api/v3/orders` (`?id=…` for one order). */
  orders(options?: FyersCallOptions & { id?: string }): Promise<FyersOrdersResponse>
  /** `GET /api/v3/tradebook`. */
  tradebook(options?: FyersCallOptions): Promise<FyersTradebookResponse>
  /** `POST /api/v3/orders/sync`: places an order (trading). */
  placeOrder(order: OrderRequest, options?: FyersCallOptions): Promise<FyersOrderResponse>
  /** `PATCH /api/v3/orders/sync`: modifies an open order (trading). */
  modifyOrder(change: ModifyOrderRequest, options?: FyersCallOptions): Promise<FyersOrderResponse>
  /** `DELETE /api/v3/orders/sync`: cancels an open order (trading). */
  cancelOrder(id: string, options?: FyersCallOptions): Promise<FyersOrderResponse>
  /** `POST /api/v3/positions`: converts a position's product type (trading). */
  convertPosition(
    conversion: ConvertPositionRequest,
    options?: FyersCallOptions
  ): Promise<FyersEnvelope>
  /** `DELETE /api/v3/positions`: exits positions (`{ id }` for one, none for all; trading). */
  exitPositions(
    which?: { id?: string | string[]; [key: string]: unknown },
    options?: FyersCallOptions
  ): Promise<FyersEnvelope>
}

const unwrap = <T extends FyersEnvelope>(outcome: Outcome<T>): T => {
  if ('error' in outcome) throw outcome.error
  return outcome.ok
}

/**
 * Builds a standalone Fyers client that sends `Authorization: <client_id>:<access_token>` and
 * `version: 2.0` as the official SDK does, never follows redirects, and throws
 * {@link FyersApiError} unless both the HTTP status and `s` say ok. (Inside keyline,
 * `c.var.fyers` adds failover, retries and metrics.)
 */
export const createFyersClient = (options: FyersClientOptions): FyersClient => {
  const { clientId, accessToken } = options
  if (!clientId || !accessToken) throw new TypeError('clientId and accessToken are required')
  const baseUrl = (options.baseUrl ?? FYERS_DEFAULT_BASE_URL).replace(/\/+$/, '')
  const doFetch = options.fetch ?? ((input, init) => fetch(input, init))
  return fyersClientOver(async (operation, request, callOptions) => {
    if (request.method !== 'GET' && !options.trading) {
      throw new TypeError(`${operation} trades: pass trading: true to createFyersClient()`)
    }
    const headers: Record<string, string> = fyersAuthorization(clientId, accessToken)
    if (request.body !== undefined) headers['content-type'] = 'application/json'
    const response = await doFetch(`${baseUrl}${request.path}`, {
      method: request.method,
      headers,
      body: request.body,
      redirect: 'manual',
      signal: callOptions?.signal,
    })
    return unwrap(readEnvelope(response, await response.text())) as never
  })
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

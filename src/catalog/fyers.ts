/**
 * What Fyers API v3 is, as data: its hosts, credentials and settings, operations, and the one
 * table of its error codes (used alike by failover, client errors and telemetry). Nothing here
 * calls Fyers: that is `src/providers/fyers/`.
 */
import type { ProviderDefinition } from './definitions.ts'
import { type FailureFacts, TRANSPORT_ERROR_TYPES } from './outcomes.ts'

// ── Configuration ────────────────────────────────────────────────────────────────────────────

/** Fyers API hosts that may appear as `server.address`; the first is the default upstream. */
export const FYERS_HOSTS = ['api-t1.fyers.in', 'api.fyers.in', 'api-t2.fyers.in'] as const
/** The host of the default Fyers upstream. */
export const FYERS_DEFAULT_HOST: string = FYERS_HOSTS[0]

/**
 * Fyers API v3: the app's client id, the access token and its next token, the base URL; and
 * for the token lifecycle (sign-in and refresh, all optional) the app secret, the refresh token,
 * the PIN and the sign-in redirect URI.
 */
export const fyersDefinition = {
  id: 'fyers',
  name: 'Fyers',
  credentials: {
    clientId: { env: ['FYERS_CLIENT_ID'], label: 'client id' },
    accessToken: {
      env: ['FYERS_ACCESS_TOKEN'],
      next: 'FYERS_ACCESS_TOKEN_NEW',
      label: 'access token',
      expiresAt: (value: string): number | undefined => jwtExpiry(value),
    },
    appSecret: { env: ['FYERS_APP_SECRET'], label: 'app secret', optional: true },
    refreshToken: {
      env: ['FYERS_REFRESH_TOKEN'],
      label: 'refresh token',
      optional: true,
      expiresAt: (value: string): number | undefined => jwtExpiry(value),
    },
    pin: { env: ['FYERS_PIN'], label: 'PIN', optional: true, redact: false },
  },
  settings: {
    baseUrl: { env: 'FYERS_BASE_URL', default: `https://${FYERS_HOSTS[0]}`, kind: 'url' },
    redirectUri: { env: 'FYERS_REDIRECT_URI', default: '', kind: 'url', optional: true },
  },
} as const satisfies ProviderDefinition<
  'clientId' | 'accessToken' | 'appSecret' | 'refreshToken' | 'pin',
  'baseUrl' | 'redirectUri'
>

/** The default Fyers API host. */
export const FYERS_DEFAULT_BASE_URL: string = fyersDefinition.settings.baseUrl.default

/**
 * The Fyers API calls keyline knows: `|`-separated groups of a method, a path prefix (the
 * official SDK's `Config` URLs: `data_Api1` is `/data`, `SYNC_API` is `/api/v3`) and paths,
 * each `path` or `path=operation` (left out, the operation is the path with `_` for `-`). A
 * `GET` is a read; any other method is a trading call, off unless `KEYLINE_FYERS_TRADING=on`.
 * The operation names the call in metrics (`keyline.operation`) and `c.var.fyers`; other paths
 * are forwarded as `_OTHER`.
 */
const ROUTES =
  'GET /data/ quotes depth history marketStatus=market_status options-chain-v3=option_chain|GET /api/v3/ profile funds holdings positions orders tradebook|POST /api/v3/ orders/sync=place_order multi-order/sync=multi_order gtt/orders/sync=gtt_order positions=convert_position|PATCH /api/v3/ orders/sync=modify_order multi-order/sync=multi_order gtt/orders/sync=gtt_order|DELETE /api/v3/ orders/sync=cancel_order multi-order/sync=multi_order gtt/orders/sync=gtt_order positions=exit_position'

/** `METHOD /path` to operation, and an operation to its first `[method, path]`. */
const routeTable = new Map<string, string>()
const requestTable = new Map<string, [string, string]>()
for (const group of ROUTES.split('|')) {
  const [method = '', prefix, ...paths] = group.split(' ')
  for (const entry of paths) {
    const [path = '', operation = path.replace(/-/g, '_')] = entry.split('=')
    routeTable.set(`${method} ${prefix}${path}`.toLowerCase(), operation)
    if (!requestTable.has(operation)) requestTable.set(operation, [method, prefix + path])
  }
}

/** `keyline.operation` values of Fyers calls: every operation of the call table. */
export const FYERS_OPERATIONS: readonly string[] = [...requestTable.keys()]
export type FyersOperation = string

/**
 * The operation of a Fyers call (`GET /data/depth` is `depth`), or `_OTHER`. Method and path
 * in any case: `POST /API/V3/ORDERS/SYNC` is still `place_order` (audited, allow-listed as one).
 */
export const fyersOperationOf = (method: string, path: string): string =>
  routeTable.get(`${method} ${path}`.toLowerCase()) ?? '_OTHER'

/** The method and path of an operation (`depth` is `GET /data/depth`). */
export const fyersCallOf = (operation: string): readonly [string, string] =>
  requestTable.get(operation) ?? ['GET', '/']

/**
 * Fyers paths keyline never forwards: the token calls (keyline holds the app secret and signs
 * in itself: `/admin/fyers/*`) and `logout`, which would end the access token every client
 * shares. In any case and any API version: `/api/V3/LOGOUT` and `/api/v2/logout` too.
 */
export const FYERS_REFUSED_PATH = /^\/api\/v\d+\/(?:logout|generate-authcode|validate-)/i

/** `on` lets `/fyers/*` and `c.var.fyers` trade (every method but `GET`). */
export const FYERS_TRADING_VARIABLE = 'KEYLINE_FYERS_TRADING'
/** Comma-separated client token names allowed to trade, when set. */
export const FYERS_TRADING_CLIENTS_VARIABLE = 'KEYLINE_FYERS_TRADING_CLIENTS'

/** The `version` header Fyers' official SDK sends with every call. */
export const FYERS_API_VERSION = '2.0'

/** Most symbols one quotes request may name (Fyers' own limit). */
export const MAX_SYMBOLS = 50

// ── Classification ───────────────────────────────────────────────────────────────────────────

/**
 * Every Fyers error code keyline knows, by the `error.type` it means. Authentication codes
 * (the access token is expired, invalid or not for this app) fail over to the next token and
 * reach the client as `upstream_auth_failed`; rate-limit codes as a 429.
 */
const CODES = {
  authentication_error: [-8, -15, -16, -17],
  rate_limit_error: [-353, -429],
  invalid_symbol: [-300],
  invalid_request_error: [-50, -51, -53, -99, -352],
} as const satisfies Record<string, readonly number[]>

/** Fyers codes meaning the access token is expired, invalid or not for this app. */
export const FYERS_AUTH_CODES: readonly number[] = CODES.authentication_error
/** Fyers codes meaning too many requests. */
export const FYERS_RATE_LIMIT_CODES: readonly number[] = CODES.rate_limit_error
/** Every Fyers code that may appear as `fyers.error_code`; anything else becomes `_OTHER`. */
export const FYERS_ERROR_CODES: readonly number[] = Object.values(CODES).flat()

/** Every `error.type` of a failed Fyers call (`keyline.fyers.quote.failures`). */
export const FYERS_ERROR_TYPES = [
  'authentication_error',
  'rate_limit_error',
  'invalid_symbol',
  'invalid_request_error',
  'api_error',
  'invalid_response',
  ...TRANSPORT_ERROR_TYPES,
] as const
export type FyersErrorType = (typeof FYERS_ERROR_TYPES)[number]

/** Fyers error types the client's own request causes (an unknown symbol, a bad parameter). */
export const FYERS_CLIENT_ERROR_TYPES: readonly string[] = [
  'invalid_symbol',
  'invalid_request_error',
]

const typeOfCode = new Map<number, keyof typeof CODES>(
  Object.entries(CODES).flatMap(([type, codes]) =>
    codes.map((code) => [code, type as keyof typeof CODES] as const)
  )
)

/**
 * The bounded `error.type` of a failed Fyers call: authentication (HTTP 401 or an
 * authentication code), rate limiting (429 or a rate-limit code), an unknown symbol, an
 * unusable answer, an upstream error (5xx, whatever code its body carries), a bad request
 * (other 4xx or a request code), a transport failure, or `_OTHER`.
 */
export const fyersErrorType = (facts: FailureFacts): FyersErrorType | '_OTHER' => {
  const { httpStatus: status } = facts
  if (facts.transport) return facts.transport
  const byCode = facts.fyersCode === undefined ? undefined : typeOfCode.get(facts.fyersCode)
  if (status === 401 || byCode === 'authentication_error') return 'authentication_error'
  if (status === 429 || byCode === 'rate_limit_error') return 'rate_limit_error'
  if (byCode === 'invalid_symbol') return 'invalid_symbol'
  if (facts.invalidResponse) return 'invalid_response'
  if (status !== undefined && status >= 500 && status <= 599) return 'api_error'
  if (byCode === 'invalid_request_error') return 'invalid_request_error'
  if (status !== undefined && status >= 400 && status <= 499) return 'invalid_request_error'
  return '_OTHER'
}

/** `GET /api/v3/profile`: the cheap authenticated call that proves a token works. */
export const FYERS_PROFILE_PATH = '/api/v3/profile'

// ── Tokens ───────────────────────────────────────────────────────────────────────────────────

const expiries = new Map<string, number | undefined>()

/**
 * The claims of a JWT-shaped `token` (Fyers access and refresh tokens are JWTs): its payload,
 * base64url JSON, when that is an object; `undefined` otherwise.
 */
export const jwtClaims = (token: string): Record<string, unknown> | undefined => {
  try {
    const value: unknown = JSON.parse(
      atob((token.split('.')[1] ?? '').replace(/-/g, '+').replace(/_/g, '/'))
    )
    return value && typeof value === 'object' ? (value as Record<string, unknown>) : undefined
  } catch {
    return undefined
  }
}

/**
 * The `exp` claim of a JWT, in epoch milliseconds; `undefined` for anything that is not a JWT
 * with a numeric `exp`. Remembered per token, since the registry asks on every fresh read.
 */
export const jwtExpiry = (token: string): number | undefined => {
  if (expiries.has(token)) return expiries.get(token)
  const parts = token.split('.')
  let exp: number | undefined
  if (parts.length === 3 && /^[A-Za-z0-9_-]+$/.test(parts[1] ?? '')) {
    const claim = jwtClaims(token)?.exp
    if (typeof claim === 'number' && Number.isFinite(claim)) exp = claim * 1000
  }
  if (expiries.size >= 64) expiries.clear()
  expiries.set(token, exp)
  return exp
}

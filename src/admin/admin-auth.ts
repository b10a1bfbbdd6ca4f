import type { Context, MiddlewareHandler } from 'hono'
import { ADMIN_TOKEN_VARIABLES, MIN_ADMIN_TOKEN_LENGTH } from '../catalog/keyline.ts'
import { constantTimeEqual, sha256 } from '../digest.ts'
import type { EnvRecord } from '../env.ts'
import { type EnvReader, readEnv } from '../env.ts'
import { KeylineError } from '../errors/keyline-error.ts'
import { type AdminLogger, consoleJsonLogger } from '../log/sink.ts'
import { fingerprint } from '../secrets/fingerprint.ts'
import { unusableReason } from '../secrets/placeholder.ts'
import { type ClientAddressReader, cloudflareClientAddress } from './client-address.ts'
import { FailureLimiter, type RateLimitOptions } from './failure-limiter.ts'

/** A configured admin token and the variable it came from. */
export interface AdminToken {
  readonly variable: (typeof ADMIN_TOKEN_VARIABLES)[number]
  readonly value: string
}

/**
 * The usable admin tokens of `env`: trimmed, at least 16 characters, neither empty nor a
 * placeholder such as `changeme`. None means the admin API is off.
 */
export const adminTokens = (env: EnvRecord): AdminToken[] => {
  const tokens: AdminToken[] = []
  for (const variable of ADMIN_TOKEN_VARIABLES) {
    const raw = env[variable]
    if (typeof raw !== 'string') continue
    const value = raw.trim()
    if (unusableReason(value) || value.length < MIN_ADMIN_TOKEN_LENGTH) continue
    tokens.push({ variable, value })
  }
  return tokens
}

/** Which admin token authenticated a request: its variable and fingerprint, never its value. */
export interface AdminCaller {
  readonly variable: AdminToken['variable']
  readonly fingerprint: string
  readonly client: string
}

/** What {@link adminAuth} puts on `c.var`. */
export interface AdminAuthVariables {
  adminCaller: AdminCaller
}

/** Options of {@link adminAuth}. */
export interface AdminAuthOptions {
  /** How the request's environment (with `ADMIN_TOKEN`, `ADMIN_TOKEN_NEW`) is read. @default readEnv */
  env?: EnvReader
  /** Where failed attempts are logged, without the presented token. @default consoleJsonLogger */
  log?: AdminLogger
  /** The failed-attempt limit per client address. @default 10 failures per 60 s */
  rateLimit?: RateLimitOptions
  /** Names the client of a request. @default cloudflareClientAddress (`cf-connecting-ip`) */
  clientAddress?: ClientAddressReader
  /** Clock, for tests. @default Date.now */
  now?: () => number
}

/** What `/admin` and every `/admin/*` route answer while no admin token is set. */
export const ADMIN_OFF_MESSAGE =
  'The admin API and its console (/admin) are off: set ADMIN_TOKEN to a token of your own to turn them on, then restart keyline (Workers: wrangler secret put ADMIN_TOKEN)'

/** The 404 of `/admin/*` while no admin token is set: it says how to turn the admin API on. */
export const noSuchRoute = (): KeylineError => new KeylineError(404, 'not_found', ADMIN_OFF_MESSAGE)

const TOKEN = /^[A-Za-z0-9._~+/-]+=*$/
const REALM = 'Bearer realm="keyline-admin"'

type Verdict =
  | { readonly token: AdminToken }
  | { readonly reason: 'missing_token' | 'malformed_header' | 'invalid_token'; challenge: string }

/**
 * Judges the request's `Authorization: Bearer <token>` against the admin tokens, synchronously:
 * SHA-256 digests compared in constant time, every token compared, so the time taken tells
 * nothing of which one matched. Parses the header as hono's bearer-auth does.
 */
const judge = (header: string | undefined, tokens: readonly AdminToken[]): Verdict => {
  if (!header) return { reason: 'missing_token', challenge: REALM }
  const prefixed = header.toLowerCase().startsWith('bearer') && header[6] === ' '
  const presented = prefixed ? header.slice(7).trimStart() : ''
  if (!presented || !TOKEN.test(presented)) {
    return { reason: 'malformed_header', challenge: 'Bearer error="invalid_request"' }
  }
  const digest = sha256(presented)
  let matched: AdminToken | undefined
  for (const token of tokens) {
    if (constantTimeEqual(sha256(token.value), digest) && !matched) matched = token
  }
  return matched
    ? { token: matched }
    : { reason: 'invalid_token', challenge: 'Bearer error="invalid_token"' }
}

/**
 * Whether a browser says the request comes from another site: `Sec-Fetch-Site: cross-site` or
 * `same-site` (every current browser sends it); without that header, an `Origin` whose host is
 * not the request's `Host` (the scheme is not compared, so TLS ending at a proxy in front is
 * fine). keyline's console is same-origin and the CLI sends neither header, so such a request
 * is a third-party page's (a `no-cors` form or `<img>`).
 */
const crossSite = (c: Context): boolean => {
  const site = c.req.header('sec-fetch-site')?.toLowerCase()
  if (site) return site === 'cross-site' || site === 'same-site'
  const origin = c.req.header('origin')
  if (!origin) return false
  try {
    return new URL(origin).host !== (c.req.header('host') ?? new URL(c.req.url).host)
  } catch {
    return true // `null` or garbage: an opaque origin, never keyline's own page
  }
}

/**
 * Guards `/admin/*`: `Authorization: Bearer <ADMIN_TOKEN>` (or `ADMIN_TOKEN_NEW` while the admin
 * token rotates), compared in constant time. Without any admin token configured it answers 404,
 * as for an unknown route. A cross-site request is refused (403) unjudged, and a request with
 * no admin credential at all is a 401: neither counts toward the failure limit, so no other
 * website can lock the admins out. Every request that presents a token counts against its
 * client address's failure limit before its token is judged (and is forgotten when it
 * succeeds), so parallel guesses cannot outrun the limit: a client whose window is spent gets
 * 429 with `retry-after`, unjudged. Every failure is logged without the presented token.
 */
export const adminAuth = (
  options: AdminAuthOptions = {}
): MiddlewareHandler<{ Variables: AdminAuthVariables }> => {
  const readRequestEnv = options.env ?? readEnv
  const log = options.log ?? consoleJsonLogger
  const clientAddress = options.clientAddress ?? cloudflareClientAddress
  const now = options.now ?? Date.now
  const limiter = new FailureLimiter(options.rateLimit)

  const logLine = (c: Context, msg: string, fields: Record<string, unknown>): void =>
    log({
      level: 'warn',
      msg,
      ...fields,
      method: c.req.method,
      path: c.req.path,
      time: new Date(now()).toISOString(),
    })

  return async function adminAuthMiddleware(c, next) {
    const tokens = adminTokens(readRequestEnv(c))
    if (tokens.length === 0) throw noSuchRoute()
    const client = clientAddress(c)
    if (crossSite(c)) {
      logLine(c, 'admin request refused: cross-site', { client })
      throw new KeylineError(403, 'forbidden', 'Cross-site requests to the admin API are refused')
    }
    const header = c.req.header('authorization')
    if (!header?.trim()) {
      // Nothing was guessed: a 401 that says what to send, outside the failure limit.
      logLine(c, 'admin authentication failed', { reason: 'missing_token', client })
      throw new KeylineError(
        401,
        'authentication_error',
        'An admin token is required: Authorization: Bearer <ADMIN_TOKEN>',
        { headers: { 'www-authenticate': REALM } }
      )
    }
    // Counted before it is judged: nothing between this line and the verdict awaits.
    const wait = limiter.attempt(client, now())
    if (wait !== undefined) {
      logLine(c, 'admin authentication rate limited', { client })
      throw new KeylineError(429, 'rate_limited', 'Too many failed admin attempts; retry later', {
        headers: { 'retry-after': String(wait) },
      })
    }
    const verdict = judge(header, tokens)
    if (!('token' in verdict)) {
      logLine(c, 'admin authentication failed', { reason: verdict.reason, client })
      throw new KeylineError(
        401,
        'authentication_error',
        verdict.reason === 'missing_token'
          ? 'An admin token is required: Authorization: Bearer <ADMIN_TOKEN>'
          : 'The admin token is not valid',
        { headers: { 'www-authenticate': verdict.challenge } }
      )
    }
    limiter.succeed(client)
    c.set('adminCaller', {
      variable: verdict.token.variable,
      fingerprint: fingerprint(verdict.token.value),
      client,
    })
    await next()
  }
}

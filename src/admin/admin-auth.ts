import type { Context, MiddlewareHandler } from 'hono'
import { bearerAuth } from 'hono/bearer-auth'
import { HTTPException } from 'hono/http-exception'
import { timingSafeEqual } from 'hono/utils/buffer'
import { type EnvReader, readEnv } from '../env.ts'
import { KeylineError } from '../errors/keyline-error.ts'
import { fingerprint } from '../secrets/fingerprint.ts'
import { type AdminToken, adminTokens } from './admin-tokens.ts'
import { type AdminLogger, consoleJsonLogger } from './audit-log.ts'
import { type ClientAddressReader, cloudflareClientAddress } from './client-address.ts'
import { FailureLimiter, type RateLimitOptions } from './failure-limiter.ts'

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

/** The 404 of a route that does not exist: what `/admin/*` answers while no admin token is set. */
export const noSuchRoute = (): KeylineError => new KeylineError(404, 'not_found', 'No such route')

const matchToken = async (
  presented: string,
  tokens: readonly AdminToken[]
): Promise<AdminToken | undefined> => {
  let matched: AdminToken | undefined
  for (const token of tokens) {
    // every token is compared, so the time taken does not tell which one matched
    if ((await timingSafeEqual(token.value, presented)) && !matched) matched = token
  }
  return matched
}

/**
 * Guards `/admin/*`: `Authorization: Bearer <ADMIN_TOKEN>` (or `ADMIN_TOKEN_NEW` while the admin
 * token rotates), compared in constant time through hono's bearer-auth. Without any admin token
 * configured it answers 404, as for an unknown route. A client address with too many failures in
 * the window gets 429 with `retry-after`; every failure is logged without the presented token.
 */
export const adminAuth = (
  options: AdminAuthOptions = {}
): MiddlewareHandler<{ Variables: AdminAuthVariables }> => {
  const readRequestEnv = options.env ?? readEnv
  const log = options.log ?? consoleJsonLogger
  const clientAddress = options.clientAddress ?? cloudflareClientAddress
  const now = options.now ?? Date.now
  const limiter = new FailureLimiter(options.rateLimit)
  const matched = new WeakMap<Context, AdminToken>()
  const bearer = bearerAuth({
    realm: 'keyline-admin',
    verifyToken: async (presented, c) => {
      const token = await matchToken(presented, adminTokens(readRequestEnv(c)))
      if (token) matched.set(c, token)
      return token !== undefined
    },
  })

  const failed = (c: Context, client: string, reason: string): void => {
    limiter.fail(client, now())
    log({
      level: 'warn',
      msg: 'admin authentication failed',
      reason,
      client,
      method: c.req.method,
      path: c.req.path,
      time: new Date(now()).toISOString(),
    })
  }

  return async function adminAuthMiddleware(c, next) {
    if (adminTokens(readRequestEnv(c)).length === 0) throw noSuchRoute()
    const client = clientAddress(c)
    const wait = limiter.retryAfter(client, now())
    if (wait !== undefined) {
      log({
        level: 'warn',
        msg: 'admin authentication rate limited',
        client,
        method: c.req.method,
        path: c.req.path,
        time: new Date(now()).toISOString(),
      })
      throw new KeylineError(429, 'rate_limited', 'Too many failed admin attempts; retry later', {
        headers: { 'retry-after': String(wait) },
      })
    }
    try {
      await bearer(c as unknown as Context, async () => {})
    } catch (err) {
      if (!(err instanceof HTTPException)) throw err
      const challenge =
        err.getResponse().headers.get('www-authenticate') ?? 'Bearer realm="keyline-admin"'
      const missing = !c.req.header('authorization')
      const malformed = err.status === 400
      failed(
        c,
        client,
        missing ? 'missing_token' : malformed ? 'malformed_header' : 'invalid_token'
      )
      throw new KeylineError(
        401,
        'authentication_error',
        missing
          ? 'An admin token is required: Authorization: Bearer <ADMIN_TOKEN>'
          : 'The admin token is not valid',
        { headers: { 'www-authenticate': challenge } }
      )
    }
    const token = matched.get(c)
    if (!token) throw new KeylineError(401, 'authentication_error', 'The admin token is not valid')
    limiter.succeed(client)
    c.set('adminCaller', {
      variable: token.variable,
      fingerprint: fingerprint(token.value),
      client,
    })
    await next()
  }
}

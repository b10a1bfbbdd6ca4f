import { createHash } from 'node:crypto'
import type { StubControl } from './control.ts'
import {
  ACCOUNT,
  candlesOf,
  depthOf,
  fyersMessageFor,
  KNOWN_SYMBOLS,
  PROFILE,
  quoteEntry,
} from './fyers-data.ts'
import {
  destroySocket,
  faultHeaders,
  type StartedStub,
  type StubContext,
  startStubServer,
} from './stub-server.ts'
import type { StubKeys } from './types.ts'

export { KNOWN_SYMBOLS }

/** Options of {@link startFyersStub}: the credentials accepted at start. */
export interface FyersStubOptions {
  /** App ids accepted in `Authorization: <client_id>:<token>` (set `clientIds`). */
  clientIds?: readonly string[]
  /** Access tokens accepted (set `accessTokens`, the default of `/__stub/keys`). */
  accessTokens?: readonly string[]
  /** Refresh tokens `validate-refresh-token` accepts (set `refreshTokens`). */
  refreshTokens?: readonly string[]
  /** App secrets, for `appIdHash = sha256(client_id:app_secret)` (set `appSecrets`). */
  appSecrets?: readonly string[]
  /** PINs `validate-refresh-token` accepts (set `pins`). */
  pins?: readonly string[]
  /** @default 0 (OS-assigned) */
  port?: number
  /** @default '127.0.0.1' */
  hostname?: string
}

/** A Fyers error envelope `{"s":"error","code","message"}`. */
const fyersError = (
  c: StubContext,
  status: number,
  code: number,
  message = fyersMessageFor(code),
  headers: Record<string, string> = {}
) => c.json({ s: 'error', code, message }, status as 400, headers)

const defaultCode = (c: StubContext, status: number): number =>
  status === 401
    ? c.get('state').authErrorCode
    : status === 429
      ? -353
      : status === 200
        ? -353
        : -50

/** Answers the request's fault; `undefined` to carry on. */
const faultResponse = (c: StubContext): Response | undefined => {
  const fault = c.get('fault')
  switch (fault?.kind) {
    case 'status': {
      const code = fault.code ?? defaultCode(c, fault.status)
      return fyersError(c, fault.status, code, fault.message, faultHeaders(fault))
    }
    case 'echo': {
      const credential = c.req.header('authorization') ?? ''
      return fyersError(
        c,
        fault.status ?? 401,
        -16,
        `Could not authenticate the user: ${credential}`,
        {
          'x-echo-credential': credential,
        }
      )
    }
    case 'reset':
      return destroySocket(c)
    case 'malformed':
      return c.body('{"s":"ok","code":200,"message":"","d":[{"n":"NSE:SB', 200, {
        'content-type': 'application/json',
      })
    default:
      return undefined
  }
}

/** The tokens a `token` fault grants instead of the issued ones (none without one). */
const grantedInstead = (c: StubContext): { access_token?: string; refresh_token?: string } => {
  const fault = c.get('fault')
  if (fault?.kind !== 'token') return {}
  return {
    ...(fault.accessToken === undefined ? {} : { access_token: fault.accessToken }),
    ...(fault.refreshToken === undefined ? {} : { refresh_token: fault.refreshToken }),
  }
}

/** The `exp` claim (seconds) of a JWT the stub issued, if `token` is one. */
export const stubTokenExpiry = (token: string): number | undefined => {
  const [, payload] = token.split('.')
  if (!payload) return undefined
  try {
    const claims = JSON.parse(Buffer.from(payload, 'base64url').toString('utf8')) as {
      exp?: unknown
    }
    return typeof claims.exp === 'number' ? claims.exp : undefined
  } catch {
    return undefined
  }
}

/** A JWT shaped as Fyers' tokens are (unsigned here: the stub checks it by set membership). */
export const issueStubToken = (
  kind: 'access' | 'refresh',
  clientId: string,
  ttlSeconds: number
): string => {
  const now = Math.floor(Date.now() / 1000)
  const part = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url')
  const claims = {
    iss: 'stub.fyers',
    kind,
    sub: clientId,
    iat: now,
    exp: now + ttlSeconds,
    jti: crypto.randomUUID(),
  }
  // A random "signature": 32 bytes, so no two tokens share more than chance.
  const signature = Buffer.from(crypto.getRandomValues(new Uint8Array(32))).toString('base64url')
  return `${part({ alg: 'none', typ: 'JWT' })}.${part(claims)}.${signature}`
}

/** 401 unless `Authorization` is `<known client id>:<accepted token>`; -8 once a JWT's `exp` passed. */
const checkAuth = (c: StubContext): Response | undefined => {
  const state = c.get('state')
  const header = c.req.header('authorization') ?? ''
  const colon = header.indexOf(':')
  const clientId = colon > 0 ? header.slice(0, colon) : undefined
  const token = colon > 0 ? header.slice(colon + 1) : undefined
  if (state.has('clientIds', clientId) && state.has('accessTokens', token)) {
    const exp = stubTokenExpiry(token ?? '')
    if (exp !== undefined && exp * 1000 <= Date.now()) return fyersError(c, 401, -8)
    return undefined
  }
  return fyersError(c, 401, state.authErrorCode)
}

/** Whether `hash` is `appIdHash` of a known client id and app secret; that client id. */
const clientOfHash = (c: StubContext, hash: unknown): string | undefined => {
  const state = c.get('state')
  return [...(state.sets.get('clientIds') ?? [])].find((id) =>
    [...(state.sets.get('appSecrets') ?? [])].some((secret) => appIdHash(id, secret) === hash)
  )
}

/** sha256 hex of `client_id:app_secret`, Fyers' `appIdHash`. */
export const appIdHash = (clientId: string, appSecret: string): string =>
  createHash('sha256').update(`${clientId}:${appSecret}`).digest('hex')

interface RefreshBody {
  grant_type?: unknown
  appIdHash?: unknown
  refresh_token?: unknown
  pin?: unknown
}

/**
 * Starts a stub of the Fyers API v3 on loopback: `GET /data/quotes`, `GET /api/v3/profile`,
 * sign-in (`GET /api/v3/generate-authcode`, which redirects at once with an auth code, and
 * `POST /api/v3/validate-authcode`) and `POST /api/v3/validate-refresh-token`; tokens it issues
 * are JWTs whose `exp` it enforces (-8). The control API is under `/__stub/` (see `types.ts`).
 */
export const startFyersStub = (options: FyersStubOptions = {}): Promise<StartedStub> =>
  startStubServer({
    stub: 'fyers',
    initialSets: {
      accessTokens: options.accessTokens ?? [],
      clientIds: options.clientIds ?? [],
      refreshTokens: options.refreshTokens ?? [],
      appSecrets: options.appSecrets ?? [],
      pins: options.pins ?? [],
      authCodes: [],
    },
    port: options.port,
    hostname: options.hostname,
    routes(app) {
      app.get('/data/quotes', (c) => {
        const early = faultResponse(c) ?? checkAuth(c)
        if (early) return early
        const symbols = (c.req.query('symbols') ?? '').split(',').filter(Boolean)
        if (symbols.length === 0) return fyersError(c, 400, -50, 'Please provide symbols')
        const now = Date.now()
        return c.json({
          s: 'ok',
          code: 200,
          message: '',
          d: symbols.map((s) => quoteEntry(s, now)),
        })
      })

      app.get('/api/v3/profile', (c) => {
        const early = faultResponse(c) ?? checkAuth(c)
        if (early) return early
        return c.json({ s: 'ok', code: 200, message: '', data: PROFILE })
      })

      app.get('/data/depth', (c) => {
        const early = faultResponse(c) ?? checkAuth(c)
        if (early) return early
        const symbols = (c.req.query('symbol') ?? '').split(',').filter(Boolean)
        if (symbols.length === 0) return fyersError(c, 400, -50, 'Please provide symbol')
        const d = depthOf(symbols, c.req.query('ohlcv_flag') === '1')
        if (Object.keys(d).length === 0) return fyersError(c, 200, -300, 'Invalid symbol')
        return c.json({ s: 'ok', code: 200, message: '', d })
      })

      app.get('/data/history', (c) => {
        const early = faultResponse(c) ?? checkAuth(c)
        if (early) return early
        const q = (name: string) => c.req.query(name) ?? ''
        const missing = ['symbol', 'resolution', 'date_format', 'range_from', 'range_to'].filter(
          (name) => q(name) === ''
        )
        if (missing.length) return fyersError(c, 400, -50, `Missing ${missing.join(', ')}`)
        const epoch = (v: string) =>
          q('date_format') === '1' ? Date.parse(`${v}T00:00:00Z`) / 1000 : Number(v)
        const candles = candlesOf(q('symbol'), epoch(q('range_from')), epoch(q('range_to')))
        if (!candles) return fyersError(c, 400, -300, 'Invalid symbol')
        return c.json({ s: 'ok', code: 200, message: '', candles })
      })

      for (const [path, payload] of Object.entries(ACCOUNT)) {
        app.get(path, (c) => {
          const early = faultResponse(c) ?? checkAuth(c)
          if (early) return early
          return c.json({ s: 'ok', code: 200, message: '', ...payload })
        })
      }

      // Trading calls: an order id for a JSON body, Fyers' "Invalid input" for anything else.
      const trading = async (c: StubContext) => {
        const early = faultResponse(c) ?? checkAuth(c)
        if (early) return early
        let body: unknown
        try {
          body = JSON.parse(await c.req.text())
        } catch {
          return fyersError(c, 400, -50, 'Invalid input')
        }
        if (!body || typeof body !== 'object') return fyersError(c, 400, -50, 'Invalid input')
        return c.json({ s: 'ok', code: 1101, message: 'Request submitted', id: '25120300000002' })
      }
      for (const path of [
        '/api/v3/orders/sync',
        '/api/v3/multi-order/sync',
        '/api/v3/gtt/orders/sync',
        '/api/v3/positions',
      ]) {
        app.on(['POST', 'PATCH', 'DELETE'], path, trading)
      }

      app.post('/api/v3/validate-refresh-token', async (c) => {
        const early = faultResponse(c)
        if (early) return early
        const state = c.get('state')
        let body: RefreshBody
        try {
          body = JSON.parse(await c.req.text()) as RefreshBody
        } catch {
          return fyersError(c, 400, -50, 'Invalid input')
        }
        if (body?.grant_type !== 'refresh_token') {
          return fyersError(c, 400, -50, 'grant_type must be refresh_token')
        }
        const clientId = clientOfHash(c, body.appIdHash)
        if (!clientId) return fyersError(c, 401, -16, 'Invalid appIdHash')
        if (!state.has('refreshTokens', String(body.refresh_token ?? ''))) {
          return fyersError(c, 401, -16, 'Refresh token is invalid or expired')
        }
        if (!state.has('pins', String(body.pin ?? ''))) {
          return fyersError(c, 401, -16, 'Invalid pin')
        }
        const accessToken = issueStubToken('access', clientId, state.accessTokenTtlSeconds)
        state.sets.get('accessTokens')?.add(accessToken)
        const rotated = state.rotateRefreshToken
          ? { refresh_token: issueStubToken('refresh', clientId, 15 * 86_400) }
          : {}
        if (rotated.refresh_token) state.sets.get('refreshTokens')?.add(rotated.refresh_token)
        return c.json({
          s: 'ok',
          code: 200,
          message: '',
          access_token: accessToken,
          ...rotated,
          ...grantedInstead(c),
        })
      })

      // Sign-in: the user's browser comes here and (the stub signs in at once) goes back to the
      // app's redirect URI with an auth code and the state it was given.
      app.get('/api/v3/generate-authcode', (c) => {
        const early = faultResponse(c)
        if (early) return early
        const state = c.get('state')
        const clientId = c.req.query('client_id') ?? ''
        const redirect = c.req.query('redirect_uri') ?? ''
        if (!state.has('clientIds', clientId) || c.req.query('response_type') !== 'code') {
          return fyersError(c, 400, -50, 'Invalid client_id or response_type')
        }
        let target: URL
        try {
          target = new URL(redirect)
        } catch {
          return fyersError(c, 400, -50, 'Invalid redirect_uri')
        }
        const code = issueStubToken('access', clientId, 300)
        state.sets.get('authCodes')?.add(code)
        target.searchParams.set('s', 'ok')
        target.searchParams.set('code', '200')
        target.searchParams.set('auth_code', code)
        target.searchParams.set('state', c.req.query('state') ?? '')
        return c.redirect(target.toString(), 302)
      })

      app.post('/api/v3/validate-authcode', async (c) => {
        const early = faultResponse(c)
        if (early) return early
        const state = c.get('state')
        let body: { grant_type?: unknown; appIdHash?: unknown; code?: unknown }
        try {
          body = JSON.parse(await c.req.text())
        } catch {
          return fyersError(c, 400, -50, 'Invalid input')
        }
        if (body?.grant_type !== 'authorization_code') {
          return fyersError(c, 400, -50, 'grant_type must be authorization_code')
        }
        const clientId = clientOfHash(c, body.appIdHash)
        if (!clientId) return fyersError(c, 401, -16, 'Invalid appIdHash')
        const code = String(body.code ?? '')
        if (!state.has('authCodes', code)) return fyersError(c, 401, -16, 'Invalid auth code')
        state.sets.get('authCodes')?.delete(code)
        const accessToken = issueStubToken('access', clientId, state.accessTokenTtlSeconds)
        const refreshToken = issueStubToken('refresh', clientId, 15 * 86_400)
        state.sets.get('accessTokens')?.add(accessToken)
        state.sets.get('refreshTokens')?.add(refreshToken)
        return c.json({
          s: 'ok',
          code: 200,
          message: '',
          access_token: accessToken,
          refresh_token: refreshToken,
          ...grantedInstead(c),
        })
      })

      app.all('*', (c) => faultResponse(c) ?? fyersError(c, 404, -50, 'Not Found'))
    },
  })

/**
 * An access token the stub session `control` accepts, lasting `ttlSeconds` (a JWT with that
 * `exp`), minted through the stub's own refresh endpoint. The session is then back at its
 * defaults (tokens issued later last a day, as Fyers' do) with this token accepted, and no
 * requests recorded.
 */
export const mintAccessToken = async (
  control: StubControl,
  keys: StubKeys,
  ttlSeconds: number
): Promise<string> => {
  await control.keys({ accessTokenTtlSeconds: ttlSeconds })
  const response = await fetch(`${control.url}/api/v3/validate-refresh-token`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({
      grant_type: 'refresh_token',
      appIdHash: appIdHash(keys.fyers.clientId, keys.fyers.appSecret),
      refresh_token: keys.fyers.refreshToken,
      pin: keys.fyers.pin,
    }),
  })
  const { access_token: token } = (await response.json()) as { access_token: string }
  await control.reset()
  await control.keys({ accept: [token] })
  return token
}

import { createHash } from 'node:crypto'
import { fyersMessageFor, KNOWN_SYMBOLS, PROFILE, quoteEntry } from './fyers-data.ts'
import {
  destroySocket,
  faultHeaders,
  type StartedStub,
  type StubContext,
  startStubServer,
} from './stub-server.ts'

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

/** 401 unless `Authorization` is `<known client id>:<accepted token>`. */
const checkAuth = (c: StubContext): Response | undefined => {
  const state = c.get('state')
  const header = c.req.header('authorization') ?? ''
  const colon = header.indexOf(':')
  const clientId = colon > 0 ? header.slice(0, colon) : undefined
  const token = colon > 0 ? header.slice(colon + 1) : undefined
  if (state.has('clientIds', clientId) && state.has('accessTokens', token)) return undefined
  return fyersError(c, 401, state.authErrorCode)
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
 * Starts a stub of the Fyers API v3 on loopback: `GET /data/quotes`, `GET /api/v3/profile` and
 * `POST /api/v3/validate-refresh-token` (which issues a new accepted access token), with the
 * control API under `/__stub/` (see `types.ts`).
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
        const hashOk = [...(state.sets.get('clientIds') ?? [])].some((id) =>
          [...(state.sets.get('appSecrets') ?? [])].some(
            (secret) => appIdHash(id, secret) === body.appIdHash
          )
        )
        if (!hashOk) return fyersError(c, 401, -16, 'Invalid appIdHash')
        if (!state.has('refreshTokens', String(body.refresh_token ?? ''))) {
          return fyersError(c, 401, -16, 'Refresh token is invalid or expired')
        }
        if (!state.has('pins', String(body.pin ?? ''))) {
          return fyersError(c, 401, -16, 'Invalid pin')
        }
        const accessToken = `test-token-${crypto.randomUUID()}`
        state.sets.get('accessTokens')?.add(accessToken)
        return c.json({ s: 'ok', code: 200, message: '', access_token: accessToken })
      })

      app.all('*', (c) => faultResponse(c) ?? fyersError(c, 404, -50, 'Not Found'))
    },
  })

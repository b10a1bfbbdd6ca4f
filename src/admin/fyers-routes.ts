import type { Context, Hono } from 'hono'
import type { EnvReader } from '../env.ts'
import { KeylineError } from '../errors/keyline-error.ts'
import { honoApp } from '../hono-app.ts'
import type { AdminLogger } from '../log/sink.ts'
import type { FyersTokens } from '../providers/fyers/tokens.ts'
import { adminTokens, noSuchRoute } from './admin-auth.ts'
import type { AdminEnv } from './audit.ts'
import { audited, writeAudit } from './audit.ts'
import { CONSOLE_HEADERS } from './console/console-header-values.ts'

/** What the Fyers admin routes need from the admin API around them. */
export interface FyersAdminOptions {
  readonly tokens: FyersTokens
  readonly env: EnvReader
  readonly log: AdminLogger
  readonly now: () => number
}

/** The body of `POST /admin/fyers/login`. */
export interface FyersLoginResult {
  /** The Fyers sign-in URL to open in a browser. */
  readonly url: string
  /** When the state in the URL stops being accepted. */
  readonly expiresAt: string
}

/** The console's security headers (its CSP, no framing), for the sign-in result page too. */
const PAGE_HEADERS: Record<string, string> = {
  ...Object.fromEntries(CONSOLE_HEADERS),
  'cache-control': 'no-store',
}

/** Text as HTML: `&`, `<`, `>`, `"` and `'` as character references. */
const escapeHtml = (text: string): string =>
  text.replace(/[&<>"']/g, (ch) => `&#${ch.charCodeAt(0)};`)

/** The sign-in result page, under the console's CSP and security headers. */
const page = (c: Context, status: 200 | 400 | 409 | 502, title: string, text: string) =>
  c.html(
    `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1"><title>${escapeHtml(title)}</title></head>
<body><main><h1>${escapeHtml(title)}</h1><p>${escapeHtml(text)}</p></main></body></html>`,
    status,
    PAGE_HEADERS
  )

const wantsHtml = (c: Context): boolean => (c.req.header('accept') ?? '').includes('text/html')

/**
 * `GET /fyers/callback`, the sign-in redirect target. It takes no bearer (a browser arrives
 * from Fyers): the signed single-use `state` proves an admin started the sign-in. Mount it
 * before the admin bearer check. Off (404) while no admin token is configured.
 */
export const fyersCallbackRoute = (options: FyersAdminOptions): Hono<AdminEnv> => {
  const { tokens, env, log, now } = options
  const app = honoApp<AdminEnv>()
  app.get('/fyers/callback', async (c) => {
    if (adminTokens(env(c)).length === 0) throw noSuchRoute()
    const code = c.req.query('auth_code') ?? ''
    const state = c.req.query('state') ?? ''
    try {
      if (c.req.query('s') === 'error' || code === '' || state === '') {
        throw new KeylineError(
          400,
          'invalid_request',
          'Fyers did not return an auth code: the sign-in was cancelled or refused'
        )
      }
      const done = await tokens.completeSignIn(env(c), code, state)
      writeAudit(log, c, 'fyers-sign-in', 'fyers', 'ok', now(), { to: done.token })
      const until = done.expiresAt ? ` It is valid until ${done.expiresAt}.` : ''
      return wantsHtml(c)
        ? page(
            c,
            200,
            'Fyers sign-in complete',
            `keyline has a new Fyers access token (${done.token}) and uses it now.${until} You can close this page.`
          )
        : c.json({ signedIn: true, token: done.token, expiresAt: done.expiresAt }, 200, {
            'cache-control': 'no-store',
          })
    } catch (error) {
      if (!(error instanceof KeylineError)) throw error
      writeAudit(log, c, 'fyers-sign-in', 'fyers', 'rejected', now(), { error: error.type })
      if (!wantsHtml(c)) throw error
      return page(c, error.status as 400, 'Fyers sign-in failed', error.message)
    }
  })
  return app
}

/**
 * `POST /fyers/login` (the sign-in URL to open) and `POST /fyers/refresh` (refresh the access
 * token now), behind the admin bearer check.
 */
export const fyersAdminRoutes = (options: FyersAdminOptions): Hono<AdminEnv> => {
  const { tokens, env, log, now } = options
  const app = honoApp<AdminEnv>()
  app.post('/fyers/login', async (c) => {
    const body = await audited(log, c, 'fyers-login', 'fyers', now, async () => {
      const { url, expiresAt } = await tokens.startSignIn(env(c))
      const result: FyersLoginResult = { url, expiresAt }
      return { result }
    })
    return c.json(body, 200, { 'cache-control': 'no-store' })
  })
  app.post('/fyers/refresh', async (c) => {
    const body = await audited(log, c, 'fyers-refresh', 'fyers', now, async () => {
      const result = await tokens.refresh(env(c), 'admin')
      if (!result.ok) {
        throw new KeylineError(
          result.reason.startsWith('not possible') ? 409 : 502,
          'fyers_refresh_failed',
          `The Fyers access token was not refreshed: ${result.reason}`
        )
      }
      return {
        result: { refreshed: true, by: result.by, token: result.token?.fingerprint ?? null },
        extra: { to: result.token?.fingerprint ?? null },
      }
    })
    return c.json(body, 200, { 'cache-control': 'no-store' })
  })
  return app
}

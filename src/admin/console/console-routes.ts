import { type Context, Hono, type MiddlewareHandler } from 'hono'
import type { EnvReader } from '../../env.ts'
import { adminTokens, noSuchRoute } from '../admin-auth.ts'
// Generated from console-page.ts, console-script.ts and console-style.ts (minified at build:
// `npx node scripts/generate-console.ts`), so the Worker carries neither a JSX runtime nor the
// readable sources.
import { CONSOLE_HEADERS, CONSOLE_PAGE, CONSOLE_SCRIPT, CONSOLE_STYLE } from './console-assets.ts'

/** Sets the console's security headers (generated from console-headers.ts) on every answer. */
const headers: MiddlewareHandler = async (c, next) => {
  await next()
  for (const [name, value] of CONSOLE_HEADERS) c.res.headers.set(name, value)
}

/**
 * `GET /` (the console page, mounted at `/admin`), `GET /console.js` and `GET /console.css`:
 * no bearer needed, as they hold no data, but off (404) while no admin token is configured,
 * like the rest of `/admin`. Mount before the admin bearer check.
 */
export const consoleRoutes = (env: EnvReader): Hono => {
  const app = new Hono()
  const on = (c: Context): void => {
    if (adminTokens(env(c)).length === 0) throw noSuchRoute()
  }
  const asset = (c: Context, body: string, type: string): Response => {
    on(c)
    return c.body(body, 200, { 'content-type': type, 'cache-control': 'no-cache' })
  }
  app.use('/', headers)
  app.use('/console.js', headers)
  app.use('/console.css', headers)
  app.get('/', (c) => {
    on(c)
    return c.html(CONSOLE_PAGE, 200, { 'cache-control': 'no-store' })
  })
  app.get('/console.js', (c) => asset(c, CONSOLE_SCRIPT, 'text/javascript; charset=utf-8'))
  app.get('/console.css', (c) => asset(c, CONSOLE_STYLE, 'text/css; charset=utf-8'))
  return app
}

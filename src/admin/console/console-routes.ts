import type { Context, Hono, MiddlewareHandler } from 'hono'
import type { EnvReader } from '../../env.ts'
import { KeylineError } from '../../errors/keyline-error.ts'
import { honoApp } from '../../hono-app.ts'
import { adminTokens, noSuchRoute } from '../admin-auth.ts'
// Generated from console-headers.ts (`npx node scripts/generate-console.ts`), so the Worker
// carries no header middleware.
import { CONSOLE_HEADERS } from './console-header-values.ts'
import { type ConsoleAssets, type ConsoleFile, installedConsole } from './console-source.ts'

/** Sets the console's security headers (generated from console-headers.ts) on every answer. */
const headers: MiddlewareHandler = async (c, next) => {
  await next()
  for (const [name, value] of CONSOLE_HEADERS) c.res.headers.set(name, value)
}

/** A 503 for a console whose files cannot be had (a deployment without its static assets). */
export const consoleUnavailable = (why: string): KeylineError =>
  new KeylineError(503, 'console_unavailable', `The admin console is unavailable: ${why}`)

/** Each file's content type and caching: the page is never stored, the assets revalidated. */
const SERVED: Readonly<Record<ConsoleFile, { type: string; cache: string }>> = {
  page: { type: 'text/html; charset=UTF-8', cache: 'no-store' },
  script: { type: 'text/javascript; charset=utf-8', cache: 'no-cache' },
  style: { type: 'text/css; charset=utf-8', cache: 'no-cache' },
}

/**
 * `GET /` (the console page, mounted at `/admin`), `GET /console.js` and `GET /console.css`,
 * from `assets` (else the installed ones, see `useConsoleAssets`): no bearer needed, as they
 * hold no data, but off (404) while no admin token is configured, like the rest of `/admin`, or
 * when there are no console files. Mount before the admin bearer check.
 */
export const consoleRoutes = (env: EnvReader, assets?: ConsoleAssets): Hono => {
  const app = honoApp()
  const serve =
    (file: ConsoleFile) =>
    async (c: Context): Promise<Response> => {
      if (adminTokens(env(c)).length === 0) throw noSuchRoute()
      const source = assets ?? installedConsole()
      if (!source) throw noSuchRoute()
      const { type, cache } = SERVED[file]
      const served = await source(file, c)
      if (typeof served === 'string') {
        return c.body(served, 200, { 'content-type': type, 'cache-control': cache })
      }
      // A static asset server's answer: its body and validator, keyline's headers.
      if (served.status !== 200 && served.status !== 304) {
        await served.body?.cancel()
        throw consoleUnavailable(`its ${file} is not in the static assets (${served.status})`)
      }
      const etag = served.headers.get('etag')
      return new Response(served.status === 304 ? null : served.body, {
        status: served.status,
        headers: { 'content-type': type, 'cache-control': cache, ...(etag ? { etag } : {}) },
      })
    }
  app.use('/', headers)
  app.use('/console.js', headers)
  app.use('/console.css', headers)
  app.get('/', serve('page'))
  app.get('/console.js', serve('script'))
  app.get('/console.css', serve('style'))
  return app
}

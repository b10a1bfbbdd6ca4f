import type { Context } from 'hono'
import { consoleUnavailable } from '../admin/console/console-routes.ts'
import { CONSOLE_FILE_NAMES, type ConsoleAssets } from '../admin/console/console-source.ts'

/** The part of a Workers static assets binding (`Fetcher`) this source uses. */
interface AssetsBinding {
  fetch(request: Request): Promise<Response>
}

/**
 * The admin console's files from the Worker's static assets (`[assets]` of wrangler.toml,
 * `run_worker_first = true`, so keyline still decides who gets them and with which headers):
 * the bundle carries none of them. Conditional requests are passed on (a 304 stays one).
 */
export const staticConsoleAssets =
  (binding = 'ASSETS'): ConsoleAssets =>
  (file, c: Context) => {
    const assets = (c.env as Record<string, AssetsBinding | undefined> | undefined)?.[binding]
    if (typeof assets?.fetch !== 'function') {
      throw consoleUnavailable(`no static assets binding ${binding} (wrangler.toml [assets])`)
    }
    const url = new URL(`/${CONSOLE_FILE_NAMES[file]}`, c.req.url)
    return assets.fetch(new Request(url, { method: c.req.method, headers: c.req.raw.headers }))
  }

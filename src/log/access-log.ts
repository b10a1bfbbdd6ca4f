import type { Context, MiddlewareHandler } from 'hono'
import { routePath } from 'hono/route'
import { createLogger, type Logger } from './logger.ts'

/** Options of {@link accessLog}. */
export interface AccessLogOptions {
  /**
   * The logger to write with, or a function choosing it per request (e.g. a child logger whose
   * redactor knows this request's secrets).
   * @default createLogger() — console, level `info`
   */
  logger?: Logger | ((c: Context) => Logger)
  /** Monotonic clock in milliseconds for `duration_ms`. @default performance.now */
  now?: () => number
}

/** What an access line says about an error: its name and, for keyline errors, its type. */
interface ErrorSummary {
  name: string
  type?: string
}

const summarize = (error: unknown): ErrorSummary => {
  try {
    if (typeof error !== 'object' || error === null) return { name: 'NonError' }
    const { name, type } = error as { name?: unknown; type?: unknown }
    const summary: ErrorSummary = { name: typeof name === 'string' ? name : 'Error' }
    if (typeof type === 'string') summary.type = type
    return summary
  } catch {
    return { name: 'Error' }
  }
}

const safe = <T>(read: () => T, fallback: T): T => {
  try {
    return read()
  } catch {
    return fallback
  }
}

/**
 * Writes exactly one access line per request, after the response is ready: `msg: "request"`,
 * `request_id` (from `hono/request-id`), `method`, `route` (the matched pattern such as
 * `/v1/:provider/*`, never the raw path), `status` and `duration_ms`. An error Hono caught
 * (`c.error`) or one passing through is logged by name and type only, redacted like every
 * field; the raw error is never written. Lines of 5xx responses are `error`, others `info`.
 */
export const accessLog = (options: AccessLogOptions = {}): MiddlewareHandler => {
  let fallback: Logger | undefined
  const now = options.now ?? (() => performance.now())
  const pick = (c: Context): Logger => {
    const chosen = options.logger
    if (typeof chosen === 'function') return chosen(c)
    if (chosen) return chosen
    fallback ??= createLogger()
    return fallback
  }

  return async function accessLog(c, next) {
    const start = now()
    let thrown: unknown
    let threw = false
    try {
      await next()
    } catch (error) {
      threw = true
      thrown = error
      throw error
    } finally {
      try {
        const error = c.error ?? (threw ? thrown : undefined)
        const status = threw ? 500 : safe(() => c.res.status, 500)
        const fields: Record<string, unknown> = {
          request_id: safe(() => c.get('requestId' as never) as unknown, undefined),
          method: safe(() => c.req.method, ''),
          route: safe(() => routePath(c), ''),
          status,
          duration_ms: Math.round((now() - start) * 1000) / 1000,
        }
        if (error !== undefined) fields.error = summarize(error)
        pick(c).log(status >= 500 ? 'error' : 'info', 'request', fields)
      } catch {
        // Logging must never change the response.
      }
    }
  }
}

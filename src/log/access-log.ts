import type { Context, MiddlewareHandler } from 'hono'
import type {} from 'hono/request-id'
import { routePath } from 'hono/route'
import { onStreamEnd, type StreamEnd } from '../upstream/stream.ts'
import { createLogger, type Logger } from './logger.ts'

/** Options of {@link accessLog}. */
export interface AccessLogOptions {
  /**
   * The logger to write with, or a function choosing it per request (e.g. a child logger whose
   * redactor knows this request's secrets).
   * @default createLogger() — console, level `info`
   */
  logger?: Logger | ((c: Context) => Logger)
  /**
   * Who called, for the line's `client` field: the name of the client token (never the token).
   * @default none: no `client` field
   */
  client?: (c: Context) => string | undefined
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

/** Whether the client went away: its request's signal aborted, so nobody reads the answer. */
const clientGone = (c: Context): boolean => safe(() => c.req.raw.signal?.aborted === true, false)

/** Passes `body` through chunk by chunk, and tells `onEnd` once how it ended. */
const watchEnd = (
  body: ReadableStream<Uint8Array>,
  onEnd: (end: StreamEnd) => void
): ReadableStream<Uint8Array> => {
  const reader = body.getReader()
  let ended = false
  const end = (result: StreamEnd): void => {
    if (ended) return
    ended = true
    onEnd(result)
  }
  return new ReadableStream<Uint8Array>({
    async pull(controller) {
      let result: ReadableStreamReadResult<Uint8Array>
      try {
        result = await reader.read()
      } catch (error) {
        end({ how: 'errored', error })
        controller.error(error)
        return
      }
      if (result.done) {
        controller.close()
        end({ how: 'done' })
      } else {
        controller.enqueue(result.value)
      }
    },
    cancel(reason) {
      end({ how: 'cancelled' })
      return reader.cancel(reason)
    },
  })
}

/**
 * A response whose body is a stream the client reads over time (SSE). The content type is read
 * first: reading `body` turns a string body into a stream, and the runtime can no longer send
 * it with a content-length (Deno) or from its fast path (`@hono/node-server`).
 */
const isStreamed = (res: Response): boolean =>
  (res.headers.get('content-type') ?? '').startsWith('text/event-stream') && res.body !== null

/**
 * Writes exactly one access line per request: `msg: "request"`, `request_id` (from
 * `hono/request-id`), `method`, `route` (the matched pattern such as `/v1/:provider/*`, never
 * the raw path), `status`, `duration_ms` and, once `clientAuth` let it in, `client` (the name of
 * its client token, or `unnamed`; never the token). The line is written once the response is ready,
 * or, for a streamed (SSE) response, once its stream ends. An error Hono caught (`c.error`) or
 * one passing through is logged by name and type only, redacted like every field; the raw
 * error is never written. Lines of 5xx responses are `error`, others `info`.
 *
 * A request whose client went away, at any moment (before the response was ready, whatever
 * was thrown then, or in the middle of its stream), is one quiet `info` line with status
 * `499` and no error.
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

  const write = (c: Context, start: number, status: number, error: unknown): void => {
    try {
      const fields: Record<string, unknown> = {
        request_id: safe(() => c.get('requestId') as unknown, undefined),
        method: safe(() => c.req.method, ''),
        route: safe(() => routePath(c), ''),
        status,
        duration_ms: Math.round((now() - start) * 1000) / 1000,
      }
      // Who called: the name of the client token (`clientAuth`), never the token.
      const client = options.client && safe(() => options.client?.(c), undefined)
      if (typeof client === 'string') fields.client = client
      if (error !== undefined) fields.error = summarize(error)
      pick(c).log(status >= 500 ? 'error' : 'info', 'request', fields)
    } catch {
      // Logging must never change the response.
    }
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
        if (clientGone(c)) {
          // Whatever was thrown then (on Node, a string: the abort reason), nobody failed.
          write(c, start, 499, undefined)
        } else if (!threw && isStreamed(c.res)) {
          const res = c.res
          const stream = res.body as ReadableStream<Uint8Array>
          const ended = (end: StreamEnd): void => {
            if (end.how === 'cancelled') write(c, start, 499, undefined)
            else write(c, start, res.status, end.how === 'errored' ? end.error : c.error)
          }
          // A relayed upstream stream tells its end itself; any other is watched through a layer.
          if (!onStreamEnd(stream, ended)) c.res = new Response(watchEnd(stream, ended), res)
        } else {
          const status = threw ? 500 : safe(() => c.res.status, 500)
          write(c, start, status, c.error ?? (threw ? thrown : undefined))
        }
      } catch {
        // Logging must never change the response.
      }
    }
  }
}

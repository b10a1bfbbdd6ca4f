import type { Context, ExecutionContext, MiddlewareHandler } from 'hono'
import { isWorkersRuntime } from '../../runtime.ts'
import type { OtelEnv } from './config.ts'
import {
  createWebExporter,
  sharedWebExporter,
  type WebExporter,
  type WebExporterOptions,
} from './web-exporter.ts'
import { ensureWebMeterProvider } from './web-provider.ts'

/** Options of {@link otelFlush}. */
export interface OtelFlushOptions extends Pick<WebExporterOptions, 'intervalMs' | 'timeoutMs'> {
  /**
   * The exporter to flush; its `intervalMs` is the throttle. When `intervalMs` or `timeoutMs`
   * is given (and no `exporter`), a dedicated one is created with them.
   * @default the isolate's shared exporter (`sharedWebExporter()`, also used by
   *   `flushTelemetry`; throttle `OTEL_METRIC_EXPORT_INTERVAL` else 5000 ms)
   */
  exporter?: WebExporter
  /** Where the `OTEL_*` configuration comes from, read once at first use. @default c.env */
  env?: (c: Context) => OtelEnv
}

const executionContextOf = (c: Context): ExecutionContext | undefined => {
  try {
    return c.executionCtx
  } catch {
    // Hono throws without one (app.request in workerd without an execution context).
    return undefined
  }
}

/**
 * Workers metric export: installs the isolate's meter provider before the request runs, and
 * after the response, at most once per `intervalMs` per isolate, exports the metrics as
 * OTLP/HTTP JSON inside `c.executionCtx.waitUntil()`. The export has its own timeout and never
 * rejects, so an unreachable collector neither delays nor fails a request. Use it as the
 * outermost middleware so that everything the other middleware records is included.
 *
 * Does nothing outside Workers (Node and Deno export on their own, see `startNodeTelemetry`
 * and `startDenoTelemetry`): there it is a bare pass-through, decided once when it is created.
 */
export const otelFlush = (options: OtelFlushOptions = {}): MiddlewareHandler => {
  const { intervalMs, timeoutMs } = options
  const own =
    options.exporter ??
    (intervalMs === undefined && timeoutMs === undefined
      ? undefined
      : createWebExporter({
          ...(intervalMs === undefined ? {} : { intervalMs }),
          ...(timeoutMs === undefined ? {} : { timeoutMs }),
        }))
  if (!isWorkersRuntime()) {
    return async function otelFlush(_c, next): Promise<void> {
      await next()
    }
  }
  return async function otelFlush(c, next): Promise<void> {
    const ctx = executionContextOf(c)
    if (!ctx) return next()
    ensureWebMeterProvider()
    await next()
    try {
      const env = options.env ? options.env(c) : ((c.env ?? {}) as OtelEnv)
      const flushing = (own ?? sharedWebExporter()).flushIfDue(env)
      if (flushing) ctx.waitUntil(flushing)
    } catch (error) {
      // Telemetry must never fail a request.
      console.warn(
        JSON.stringify({
          level: 'warn',
          msg: 'otel flush not scheduled',
          error: error instanceof Error ? error.message : String(error),
        })
      )
    }
  }
}

import { unrefTimer } from '../../runtime.ts'
import { type OtelEnv, readOtelConfig } from './config.ts'
import { createWebExporter, type FlushResult, type WebExporter } from './web-exporter.ts'
import { ensureWebMeterProvider } from './web-provider.ts'

/** Options of {@link startDenoTelemetry}. */
export interface DenoTelemetryOptions {
  /**
   * Time between two exports.
   * @default `OTEL_METRIC_EXPORT_INTERVAL`, else 60000 (the specification's default)
   */
  intervalMs?: number
  /**
   * Timeout of one export.
   * @default `OTEL_EXPORTER_OTLP_METRICS_TIMEOUT`, `OTEL_EXPORTER_OTLP_TIMEOUT` or
   *   `OTEL_METRIC_EXPORT_TIMEOUT`, else 5000
   */
  timeoutMs?: number
  /** The fetch to use. @default globalThis.fetch */
  fetch?: typeof fetch
}

/** Metric export on Deno, as started by {@link startDenoTelemetry}. */
export interface DenoTelemetry {
  /**
   * `web`: keyline's OTLP/HTTP JSON exporter on an interval; `deno-builtin`: `OTEL_DENO=true`,
   * Deno's own OpenTelemetry exports and this does nothing; `off`: no OTLP exporter configured.
   */
  readonly mode: 'web' | 'deno-builtin' | 'off'
  /** Exports now (for tests or an admin hook); in `deno-builtin` and `off`, skips. */
  flush(): Promise<FlushResult>
  /** Stops the interval and makes one last export. Idempotent; never rejects. */
  shutdown(): Promise<void>
}

const DEFAULT_INTERVAL_MS = 60_000

const truthy = (value: unknown): boolean =>
  typeof value === 'string' && ['true', '1'].includes(value.trim().toLowerCase())

/**
 * Starts metric export on Deno. Web APIs only (plus `Deno.unrefTimer` when present).
 *
 * Decision: Deno shares the Workers path (an on-demand reader collected on an interval and
 * sent as OTLP/HTTP JSON with `fetch`) rather than relying on Deno's built-in OpenTelemetry, so
 * that the three runtimes export the same resource (`service.name`, `OTEL_RESOURCE_ATTRIBUTES`,
 * `service.instance.id`), honour the same variables, and are tested the same way. Deno's
 * built-in exporter stays available: run with `OTEL_DENO=true` and this function steps aside
 * (installs no provider, so Deno's own, which also serves `@opentelemetry/api`, receives the
 * metrics; it adds Deno's HTTP server metrics and traces, but needs the variable at process
 * start and exports protobuf by default).
 *
 * The interval timer is unref'd (it never keeps Deno alive); `shutdown()` makes a final export.
 * `prometheus` in `OTEL_METRICS_EXPORTER` is not supported on Deno (ignored with a warning).
 *
 * @param env the environment, e.g. `Deno.env.toObject()`
 */
export const startDenoTelemetry = (
  env: OtelEnv,
  options: DenoTelemetryOptions = {}
): DenoTelemetry => {
  const skipped = (mode: 'deno-builtin' | 'off'): DenoTelemetry => ({
    mode,
    flush: async () => ({ status: 'skipped', reason: 'disabled' }),
    shutdown: async () => {},
  })
  if (truthy(env.OTEL_DENO)) return skipped('deno-builtin')
  const config = readOtelConfig(env)
  if (config.prometheus) {
    console.warn(
      JSON.stringify({ level: 'warn', msg: 'prometheus exporter not supported on Deno; ignored' })
    )
  }
  if (!config.otlp) return skipped('off')

  ensureWebMeterProvider()
  const exporter: WebExporter = createWebExporter({
    runtime: 'deno',
    ...(options.timeoutMs === undefined ? {} : { timeoutMs: options.timeoutMs }),
    ...(options.fetch ? { fetch: options.fetch } : {}),
  })
  const interval = options.intervalMs ?? config.exportIntervalMs ?? DEFAULT_INTERVAL_MS
  const timer = setInterval(() => {
    void exporter.flush(env)
  }, interval)
  unrefTimer(timer)

  let stopping: Promise<void> | undefined
  return {
    mode: 'web',
    flush: () => exporter.flush(env),
    shutdown: () => {
      stopping ??= (async () => {
        clearInterval(timer)
        await exporter.settled()
        await exporter.flush(env)
      })()
      return stopping
    },
  }
}

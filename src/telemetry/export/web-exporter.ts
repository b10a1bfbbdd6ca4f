import type { Attributes } from '@opentelemetry/api'
import { type OtelEnv, type OtelExportConfig, readOtelConfig } from './config.ts'
import { type ExportResult, sendOtlpJson } from './otlp-http-json.ts'
import type { TelemetryRuntime } from './resource.ts'
import { ensureWebMeterProvider } from './web-provider.ts'

/** Options of {@link createWebExporter}. */
export interface WebExporterOptions {
  /** Reported as `process.runtime.name`. @default 'workerd' */
  runtime?: TelemetryRuntime
  /**
   * The least time between two throttled flushes ({@link WebExporter.flushIfDue}), per isolate.
   * @default `OTEL_METRIC_EXPORT_INTERVAL` if set, else 5000 (short: isolates are evicted
   *   without notice, and whatever was recorded since the last flush is lost with them)
   */
  intervalMs?: number
  /**
   * Timeout of one export request.
   * @default `OTEL_EXPORTER_OTLP_METRICS_TIMEOUT`, `OTEL_EXPORTER_OTLP_TIMEOUT` or
   *   `OTEL_METRIC_EXPORT_TIMEOUT` if set, capped at 25000 (Workers cancel `waitUntil` work
   *   30 s after the response), else 5000
   */
  timeoutMs?: number
  /** The fetch to use. @default globalThis.fetch */
  fetch?: typeof fetch
  /** Receives every export's outcome, e.g. to log failures. @default logs failures once per outage */
  onResult?: (result: FlushResult) => void
}

/** What a flush did. Flushes never throw. */
export type FlushResult =
  | ExportResult
  | {
      readonly status: 'skipped'
      /**
       * `disabled`: no OTLP exporter configured; `not-global`: another meter provider is the
       * global one; `in-flight`: an export is already running.
       */
      readonly reason: 'disabled' | 'not-global' | 'in-flight'
    }

/** Flushes the isolate's metrics over OTLP/HTTP JSON; configured from the env at first use. */
export interface WebExporter {
  /**
   * Collects and exports now, unless an export is already running: then it resolves at once
   * with `{ status: 'skipped', reason: 'in-flight' }`. At most one request is in flight, so
   * nothing queues while a collector hangs; and no request awaits another's I/O (Workers
   * forbid that).
   */
  flush(env: OtelEnv): Promise<FlushResult>
  /** Resolves once no export is running. On Workers, await it only in the same request. */
  settled(): Promise<void>
  /**
   * Like {@link flush} when `intervalMs` has passed since the last flush started and none is
   * running; otherwise `undefined` (nothing to wait for).
   */
  flushIfDue(env: OtelEnv): Promise<FlushResult> | undefined
  /** The configuration read at first use, if any. */
  readonly config: OtelExportConfig | undefined
}

const DEFAULT_INTERVAL_MS = 5_000
const DEFAULT_TIMEOUT_MS = 5_000
// Workers cancel `waitUntil` work 30 s after the response: stay under it.
const MAX_TIMEOUT_MS = 25_000
// An export still "running" this long after its own timeout was cut off with its request
// (Workers tore the context down): forget it, or this isolate would never export again.
const STALE_AFTER_TIMEOUT_MS = 5_000

/**
 * The exported resource, lowest precedence first: the SDK's (`telemetry.sdk.*`: keyline's own
 * metrics SDK, `web-meter.ts`), the runtime and instance id, `OTEL_RESOURCE_ATTRIBUTES`, then
 * the service name (`OTEL_SERVICE_NAME`, default `keyline`). Node's (`buildResource`) has the
 * same keys, with `@opentelemetry/sdk-metrics`' `telemetry.sdk.*`.
 */
const webResource = (
  config: OtelExportConfig,
  runtime: TelemetryRuntime,
  instanceId: string
): Attributes => ({
  'telemetry.sdk.language': 'webjs',
  'telemetry.sdk.name': 'keyline',
  'process.runtime.name': runtime,
  'service.instance.id': instanceId,
  ...config.resourceAttributes,
  'service.name': config.serviceName,
})

const warnOncePerOutage = (): ((result: FlushResult) => void) => {
  let failing = false
  return (result) => {
    if (result.status === 'failed' && !failing) {
      console.warn(
        JSON.stringify({ level: 'warn', msg: 'otlp metrics export failed', error: result.error })
      )
    }
    if (result.status === 'sent' && failing) {
      console.info(JSON.stringify({ level: 'info', msg: 'otlp metrics export recovered' }))
    }
    if (result.status === 'sent' || result.status === 'failed') failing = result.status === 'failed'
  }
}

/**
 * Creates an exporter for runtimes without a long-lived process of their own (Workers) or that
 * should share that path (Deno). It collects on demand from {@link ensureWebMeterProvider}'s
 * provider, so it keeps no timer and no queue: with cumulative temporality a failed export is
 * simply dropped and the next one carries the totals again. Web APIs only.
 */
export const createWebExporter = (options: WebExporterOptions = {}): WebExporter => {
  const runtime = options.runtime ?? 'workerd'
  const onResult = options.onResult ?? warnOncePerOutage()
  let config: OtelExportConfig | undefined
  let resource: Attributes | undefined
  let inFlight: Promise<FlushResult> | undefined
  let lastStartedAt = Number.NEGATIVE_INFINITY

  const timeoutFor = (cfg: OtelExportConfig): number =>
    Math.min(
      options.timeoutMs ?? cfg.otlp?.timeoutMs ?? cfg.exportTimeoutMs ?? DEFAULT_TIMEOUT_MS,
      MAX_TIMEOUT_MS
    )

  /** Whether an export is running (and not one whose request context was torn down). */
  const running = (cfg: OtelExportConfig): boolean => {
    if (inFlight && Date.now() - lastStartedAt > timeoutFor(cfg) + STALE_AFTER_TIMEOUT_MS) {
      inFlight = undefined
    }
    return inFlight !== undefined
  }

  const configure = (env: OtelEnv): OtelExportConfig => {
    if (config) return config
    config = readOtelConfig(env)
    return config
  }

  const run = async (cfg: OtelExportConfig): Promise<FlushResult> => {
    const web = ensureWebMeterProvider()
    if (!web.isGlobal()) return { status: 'skipped', reason: 'not-global' }
    const otlp = cfg.otlp
    if (!otlp) return { status: 'skipped', reason: 'disabled' }
    resource ??= webResource(cfg, runtime, web.instanceId())
    const collection = await web.provider.collect(resource)
    const timeoutMs = timeoutFor(cfg)
    const result = await sendOtlpJson(collection, {
      url: otlp.url,
      headers: otlp.headers,
      timeoutMs,
      ...(options.fetch ? { fetch: options.fetch } : {}),
    })
    onResult(result)
    return result
  }

  const flush = (env: OtelEnv): Promise<FlushResult> => {
    const cfg = configure(env)
    if (running(cfg)) return Promise.resolve({ status: 'skipped', reason: 'in-flight' })
    lastStartedAt = Date.now()
    const started = run(cfg).catch(
      (error: unknown): FlushResult => ({
        status: 'failed',
        points: 0,
        error: error instanceof Error ? error.message : String(error),
      })
    )
    const current = started.finally(() => {
      if (inFlight === current) inFlight = undefined
    })
    inFlight = current
    return current
  }

  return {
    flush,
    settled: async () => {
      await inFlight
    },
    flushIfDue: (env) => {
      const cfg = configure(env)
      if (!cfg.otlp || running(cfg)) return undefined
      const interval = options.intervalMs ?? cfg.exportIntervalMs ?? DEFAULT_INTERVAL_MS
      if (Date.now() - lastStartedAt < interval) return undefined
      return flush(env)
    },
    get config() {
      return config
    },
  }
}

let shared: WebExporter | undefined

/**
 * The isolate's shared exporter, used by `otelFlush()` and {@link flushTelemetry} unless given
 * another; created at first call.
 */
export const sharedWebExporter = (): WebExporter => {
  shared ??= createWebExporter()
  return shared
}

/**
 * Flushes this isolate's metrics now, unthrottled; for the Workers `scheduled` handler:
 * `ctx.waitUntil(flushTelemetry(env))`. Never rejects.
 * @param env the Worker's bindings (read once per isolate, at first use)
 */
export const flushTelemetry = (
  env: OtelEnv,
  exporter: WebExporter = sharedWebExporter()
): Promise<FlushResult> => exporter.flush(env)

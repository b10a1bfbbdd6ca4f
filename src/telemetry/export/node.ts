import { randomUUID } from 'node:crypto'
import { metrics } from '@opentelemetry/api'
import { OTLPMetricExporter } from '@opentelemetry/exporter-metrics-otlp-http'
import { PrometheusExporter } from '@opentelemetry/exporter-prometheus'
import {
  type IMetricReader,
  MeterProvider,
  PeriodicExportingMetricReader,
} from '@opentelemetry/sdk-metrics'
import { type OtelEnv, readOtelConfig } from './config.ts'
import { type PrometheusServer, startPrometheusServer } from './node-prometheus-server.ts'
import { buildResource } from './resource.ts'

/** Options of {@link startNodeTelemetry}. */
export interface NodeTelemetryOptions {
  /**
   * Time between two OTLP exports.
   * @default `OTEL_METRIC_EXPORT_INTERVAL`, else 60000 (the specification's default)
   */
  exportIntervalMs?: number
  /**
   * Timeout of one OTLP export (capped at the interval).
   * @default `OTEL_METRIC_EXPORT_TIMEOUT`, else 30000
   */
  exportTimeoutMs?: number
}

/** Metric export on Node, as started by {@link startNodeTelemetry}. */
export interface NodeTelemetry {
  /**
   * Exports what is left (one last OTLP export), stops the scrape endpoint, and removes the
   * global meter provider. Idempotent; never rejects.
   */
  shutdown(): Promise<void>
  /** The Prometheus scrape URL, when that exporter is enabled and its server is listening. */
  readonly prometheusUrl?: string
  /** The exporters running: `otlp` and/or `prometheus`. */
  readonly exporters: ReadonlyArray<'otlp' | 'prometheus'>
}

const DEFAULT_INTERVAL_MS = 60_000
const DEFAULT_TIMEOUT_MS = 30_000

const log = (level: 'info' | 'warn' | 'error', msg: string, fields: object = {}): void => {
  const line = JSON.stringify({ level, msg, ...fields })
  if (level === 'info') console.log(line)
  else console.warn(line)
}

const message = (error: unknown): string => (error instanceof Error ? error.message : String(error))

/**
 * Starts metric export on Node from the standard `OTEL_*` variables (see `readOtelConfig`):
 * a `MeterProvider` with a resource (`service.name` from `OTEL_SERVICE_NAME`, default
 * `keyline`; `OTEL_RESOURCE_ATTRIBUTES`; a per-process `service.instance.id`), made the global
 * `@opentelemetry/api` meter provider, with
 *
 * - `otlp`: OTLP/HTTP JSON (`@opentelemetry/exporter-metrics-otlp-http`) every
 *   `OTEL_METRIC_EXPORT_INTERVAL` ms to `OTEL_EXPORTER_OTLP_METRICS_ENDPOINT` or
 *   `OTEL_EXPORTER_OTLP_ENDPOINT` + `/v1/metrics`, with `OTEL_EXPORTER_OTLP_HEADERS`;
 * - `prometheus`: a scrape endpoint `GET /metrics` (`@opentelemetry/exporter-prometheus`) on
 *   `OTEL_EXPORTER_PROMETHEUS_HOST` (default `127.0.0.1`) : `OTEL_EXPORTER_PROMETHEUS_PORT`
 *   (default `9464`).
 *
 * With no exporter enabled it installs nothing (the API stays a no-op, costing nothing).
 * Telemetry never stops the proxy from starting: a scrape port that cannot be bound is logged
 * and `prometheusUrl` is left unset.
 *
 * Why `sdk-metrics` directly and not `@opentelemetry/sdk-node`: keyline exports metrics only,
 * and NodeSDK would also start a tracer and logger provider, run resource detectors (host,
 * process, env) and read `process.env` itself, not the `env` passed here; a MeterProvider with
 * two readers is all that is needed, and is what NodeSDK would build for metrics anyway.
 *
 * Note: the OTLP exporter also merges `OTEL_EXPORTER_OTLP_*HEADERS` and `*_COMPRESSION` from
 * `process.env` itself (explicit settings from `env` win).
 *
 * @param env the environment @default process.env
 */
export const startNodeTelemetry = async (
  env: OtelEnv = process.env,
  options: NodeTelemetryOptions = {}
): Promise<NodeTelemetry> => {
  const config = readOtelConfig(env)
  if (config.unknownExporters.length > 0) {
    log('warn', 'unsupported OTEL_METRICS_EXPORTER values ignored', {
      exporters: config.unknownExporters,
    })
  }
  if (config.exporters.size === 0) {
    return { shutdown: async () => {}, exporters: [] }
  }

  const readers: IMetricReader[] = []
  const exporters: Array<'otlp' | 'prometheus'> = []
  if (config.otlp) {
    const interval = options.exportIntervalMs ?? config.exportIntervalMs ?? DEFAULT_INTERVAL_MS
    const timeout = options.exportTimeoutMs ?? config.exportTimeoutMs ?? DEFAULT_TIMEOUT_MS
    readers.push(
      new PeriodicExportingMetricReader({
        exporter: new OTLPMetricExporter({
          url: config.otlp.url,
          headers: { ...config.otlp.headers },
          ...(config.otlp.timeoutMs === undefined ? {} : { timeoutMillis: config.otlp.timeoutMs }),
        }),
        exportIntervalMillis: interval,
        exportTimeoutMillis: Math.min(timeout, interval),
      })
    )
    exporters.push('otlp')
  }

  let prometheus: PrometheusExporter | undefined
  if (config.prometheus) {
    prometheus = new PrometheusExporter({ preventServerStart: true })
    readers.push(prometheus)
  }

  const provider = new MeterProvider({
    resource: buildResource(config, { runtime: 'nodejs', instanceId: randomUUID() }),
    readers,
  })
  if (!metrics.setGlobalMeterProvider(provider)) {
    log('warn', 'another global MeterProvider is installed; keyline metrics will not be exported')
  }

  let server: PrometheusServer | undefined
  if (prometheus && config.prometheus) {
    const { host, port } = config.prometheus
    try {
      server = await startPrometheusServer(prometheus, host, port)
      exporters.push('prometheus')
    } catch (error) {
      log('error', 'prometheus scrape endpoint not started', { host, port, error: message(error) })
    }
  }

  let stopping: Promise<void> | undefined
  const shutdown = (): Promise<void> => {
    stopping ??= (async () => {
      if (metrics.getMeterProvider() === provider) metrics.disable()
      const results = await Promise.allSettled([provider.shutdown(), server?.close()])
      for (const r of results) {
        if (r.status === 'rejected') log('warn', 'telemetry shutdown', { error: message(r.reason) })
      }
    })()
    return stopping
  }

  return {
    shutdown,
    exporters,
    ...(server ? { prometheusUrl: server.url } : {}),
  }
}

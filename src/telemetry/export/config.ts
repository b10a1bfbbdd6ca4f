/**
 * Reads the standard OpenTelemetry SDK environment variables that keyline's metric export
 * honours. Web APIs only: used by the Node, Deno and Workers exporters alike, with the
 * environment passed in (`process.env`, `Deno.env.toObject()` or the Workers bindings).
 */

/** The environment the exporters read: `process.env`, `Deno.env.toObject()` or Worker bindings. */
export type OtelEnv = Readonly<Record<string, unknown>>

/** A metrics exporter named in `OTEL_METRICS_EXPORTER`. */
export type MetricsExporterName = 'otlp' | 'prometheus'

/** Where and how OTLP/HTTP metrics are sent. */
export interface OtlpConfig {
  /** The full metrics URL, e.g. `http://collector:4318/v1/metrics`. */
  readonly url: string
  /** Extra request headers from `OTEL_EXPORTER_OTLP_(METRICS_)HEADERS`. */
  readonly headers: Readonly<Record<string, string>>
  /** Per-export timeout from `OTEL_EXPORTER_OTLP_(METRICS_)TIMEOUT`, if set. */
  readonly timeoutMs?: number
}

/** The Prometheus scrape endpoint's address. */
export interface PrometheusConfig {
  readonly host: string
  readonly port: number
}

/** Everything the exporters need, parsed once from the environment. */
export interface OtelExportConfig {
  /** `OTEL_SERVICE_NAME`, else `service.name` from `OTEL_RESOURCE_ATTRIBUTES`, else `keyline`. */
  readonly serviceName: string
  /** `OTEL_RESOURCE_ATTRIBUTES`, URL-decoded (without `service.name`, see `serviceName`). */
  readonly resourceAttributes: Readonly<Record<string, string>>
  /** The enabled exporters; empty means export is off. */
  readonly exporters: ReadonlySet<MetricsExporterName>
  /** Set when `otlp` is enabled. */
  readonly otlp?: OtlpConfig
  /** Set when `prometheus` is enabled. */
  readonly prometheus?: PrometheusConfig
  /** `OTEL_METRIC_EXPORT_INTERVAL` in milliseconds, if set. */
  readonly exportIntervalMs?: number
  /** `OTEL_METRIC_EXPORT_TIMEOUT` in milliseconds, if set. */
  readonly exportTimeoutMs?: number
  /** Exporter names in `OTEL_METRICS_EXPORTER` this build does not know (ignored). */
  readonly unknownExporters: readonly string[]
}

/** The OTLP/HTTP metrics URL when only the default endpoint applies. */
export const DEFAULT_OTLP_METRICS_URL = 'http://localhost:4318/v1/metrics'

/** The Prometheus exporter's registered default port. */
export const DEFAULT_PROMETHEUS_PORT = 9464

const str = (env: OtelEnv, name: string): string | undefined => {
  const raw = env[name]
  return typeof raw === 'string' && raw.trim() !== '' ? raw.trim() : undefined
}

const decode = (value: string): string => {
  try {
    return decodeURIComponent(value)
  } catch {
    return value
  }
}

/**
 * Parses the W3C-baggage-like `k=v,k2=v2` lists of `OTEL_RESOURCE_ATTRIBUTES` and
 * `OTEL_EXPORTER_OTLP_HEADERS`: keys and values are trimmed and URL-decoded; entries without
 * `=` or with an empty key are skipped; a value may itself contain `=`.
 */
export const parseKeyValueList = (raw: string | undefined): Record<string, string> => {
  const out: Record<string, string> = {}
  if (!raw) return out
  for (const entry of raw.split(',')) {
    const at = entry.indexOf('=')
    if (at <= 0) continue
    const key = decode(entry.slice(0, at).trim())
    if (!key) continue
    out[key] = decode(entry.slice(at + 1).trim())
  }
  return out
}

const positiveInt = (env: OtelEnv, name: string): number | undefined => {
  const raw = str(env, name)
  if (raw === undefined) return undefined
  const value = Number(raw)
  return Number.isFinite(value) && value > 0 ? Math.floor(value) : undefined
}

const port = (env: OtelEnv, name: string, fallback: number): number => {
  const raw = str(env, name)
  const value = raw === undefined ? Number.NaN : Number(raw)
  return Number.isInteger(value) && value >= 0 && value <= 65_535 ? value : fallback
}

/** Appends `/v1/metrics` to a base `OTEL_EXPORTER_OTLP_ENDPOINT` (spec: signal path appended). */
const signalUrl = (base: string): string => `${base.replace(/\/+$/, '')}/v1/metrics`

/**
 * Reads the metric export configuration from the environment.
 *
 * - `OTEL_SDK_DISABLED=true` turns every exporter off.
 * - `OTEL_METRICS_EXPORTER`: comma-separated `otlp`, `prometheus`, `none`; `none` anywhere wins.
 *   Unset: `otlp` if an OTLP endpoint variable is set, else nothing. This differs from the
 *   spec's default (`otlp` to `localhost:4318`) on purpose: an API proxy should send no
 *   telemetry traffic unless told where to, and `localhost` means nothing on Workers.
 * - `OTEL_EXPORTER_OTLP_METRICS_ENDPOINT` is used as is; `OTEL_EXPORTER_OTLP_ENDPOINT` gets
 *   `/v1/metrics` appended; default `http://localhost:4318/v1/metrics`.
 * - `OTEL_EXPORTER_OTLP_HEADERS` then `OTEL_EXPORTER_OTLP_METRICS_HEADERS` (wins per key).
 * - `OTEL_EXPORTER_PROMETHEUS_HOST` (default `127.0.0.1`, loopback only, for safety: set
 *   `0.0.0.0` to let a remote Prometheus scrape) and `OTEL_EXPORTER_PROMETHEUS_PORT` (default
 *   `9464`; `0` picks a free port).
 */
export const readOtelConfig = (env: OtelEnv): OtelExportConfig => {
  const resourceAttributes = parseKeyValueList(str(env, 'OTEL_RESOURCE_ATTRIBUTES'))
  const serviceName =
    str(env, 'OTEL_SERVICE_NAME') ?? resourceAttributes['service.name'] ?? 'keyline'
  delete resourceAttributes['service.name']

  const metricsEndpoint = str(env, 'OTEL_EXPORTER_OTLP_METRICS_ENDPOINT')
  const baseEndpoint = str(env, 'OTEL_EXPORTER_OTLP_ENDPOINT')
  const url = metricsEndpoint ?? (baseEndpoint ? signalUrl(baseEndpoint) : DEFAULT_OTLP_METRICS_URL)

  const names = (
    str(env, 'OTEL_METRICS_EXPORTER') ?? (metricsEndpoint || baseEndpoint ? 'otlp' : 'none')
  )
    .split(',')
    .map((name) => name.trim().toLowerCase())
    .filter(Boolean)
  const disabled = str(env, 'OTEL_SDK_DISABLED')?.toLowerCase() === 'true' || names.includes('none')
  const exporters = new Set<MetricsExporterName>()
  const unknownExporters: string[] = []
  for (const name of names) {
    if (name === 'otlp' || name === 'prometheus') exporters.add(name)
    else if (name !== 'none') unknownExporters.push(name)
  }
  if (disabled) exporters.clear()

  const timeoutMs =
    positiveInt(env, 'OTEL_EXPORTER_OTLP_METRICS_TIMEOUT') ??
    positiveInt(env, 'OTEL_EXPORTER_OTLP_TIMEOUT')
  const otlp: OtlpConfig | undefined = exporters.has('otlp')
    ? {
        url,
        headers: {
          ...parseKeyValueList(str(env, 'OTEL_EXPORTER_OTLP_HEADERS')),
          ...parseKeyValueList(str(env, 'OTEL_EXPORTER_OTLP_METRICS_HEADERS')),
        },
        ...(timeoutMs === undefined ? {} : { timeoutMs }),
      }
    : undefined
  const prometheus: PrometheusConfig | undefined = exporters.has('prometheus')
    ? {
        host: str(env, 'OTEL_EXPORTER_PROMETHEUS_HOST') ?? '127.0.0.1',
        port: port(env, 'OTEL_EXPORTER_PROMETHEUS_PORT', DEFAULT_PROMETHEUS_PORT),
      }
    : undefined
  const exportIntervalMs = positiveInt(env, 'OTEL_METRIC_EXPORT_INTERVAL')
  const exportTimeoutMs = positiveInt(env, 'OTEL_METRIC_EXPORT_TIMEOUT')

  return {
    serviceName,
    resourceAttributes,
    exporters,
    unknownExporters,
    ...(otlp ? { otlp } : {}),
    ...(prometheus ? { prometheus } : {}),
    ...(exportIntervalMs === undefined ? {} : { exportIntervalMs }),
    ...(exportTimeoutMs === undefined ? {} : { exportTimeoutMs }),
  }
}

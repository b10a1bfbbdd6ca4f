/** Decoding of OTLP/HTTP JSON metric exports, for the test receivers (Node and Deno). */

/** One data point as the receiver decoded it. */
export interface ReceivedPoint {
  readonly attributes: Record<string, unknown>
  /** `asInt` / `asDouble` of sums and gauges. */
  readonly value?: number
  /** Histograms. */
  readonly count?: number
  readonly sum?: number
  readonly startTimeUnixNano?: string
  readonly timeUnixNano?: string
}

/** One metric as the receiver decoded it. */
export interface ReceivedMetric {
  readonly name: string
  readonly description?: string
  readonly unit?: string
  readonly scope: string
  readonly type: 'sum' | 'gauge' | 'histogram' | 'exponentialHistogram' | 'summary' | 'unknown'
  /** OTLP `AggregationTemporality`: 1 delta, 2 cumulative. */
  readonly temporality?: number
  readonly monotonic?: boolean
  readonly points: ReceivedPoint[]
}

/** One `resourceMetrics` entry of one export request. */
export interface ReceivedExport {
  /** Lower-cased request headers. */
  readonly headers: Record<string, string>
  readonly resource: Record<string, unknown>
  readonly metrics: ReceivedMetric[]
  /** When it arrived (ms since the epoch). */
  readonly receivedAt: number
}

type Json = Record<string, unknown>

const asObject = (value: unknown): Json =>
  value && typeof value === 'object' ? (value as Json) : {}
const asArray = (value: unknown): unknown[] => (Array.isArray(value) ? value : [])
const asNumber = (value: unknown): number | undefined =>
  typeof value === 'number' ? value : typeof value === 'string' ? Number(value) : undefined

/** Decodes an OTLP JSON `AnyValue`. int64 arrives as a string (or a number), bytes as base64. */
export const decodeAnyValue = (raw: unknown): unknown => {
  const v = asObject(raw)
  if ('stringValue' in v) return v.stringValue
  if ('boolValue' in v) return v.boolValue
  if ('intValue' in v) return asNumber(v.intValue)
  if ('doubleValue' in v) return asNumber(v.doubleValue)
  if ('bytesValue' in v) return v.bytesValue
  if ('arrayValue' in v) return asArray(asObject(v.arrayValue).values).map(decodeAnyValue)
  if ('kvlistValue' in v) return decodeAttributes(asObject(v.kvlistValue).values)
  return undefined
}

/** Decodes an OTLP JSON `KeyValue[]` into a plain record. */
export const decodeAttributes = (raw: unknown): Record<string, unknown> =>
  Object.fromEntries(
    asArray(raw).map((kv) => [String(asObject(kv).key), decodeAnyValue(asObject(kv).value)])
  )

const decodePoint = (raw: unknown): ReceivedPoint => {
  const p = asObject(raw)
  const value = asNumber(p.asInt ?? p.asDouble)
  const count = asNumber(p.count)
  const sum = asNumber(p.sum)
  return {
    attributes: decodeAttributes(p.attributes),
    ...(value === undefined ? {} : { value }),
    ...(count === undefined ? {} : { count }),
    ...(sum === undefined ? {} : { sum }),
    ...(p.startTimeUnixNano === undefined
      ? {}
      : { startTimeUnixNano: String(p.startTimeUnixNano) }),
    ...(p.timeUnixNano === undefined ? {} : { timeUnixNano: String(p.timeUnixNano) }),
  }
}

const TYPES = ['sum', 'gauge', 'histogram', 'exponentialHistogram', 'summary'] as const

const decodeMetric = (raw: unknown, scope: string): ReceivedMetric => {
  const m = asObject(raw)
  const type = TYPES.find((t) => t in m) ?? 'unknown'
  const data = asObject(type === 'unknown' ? undefined : m[type])
  const temporality = asNumber(data.aggregationTemporality)
  return {
    name: String(m.name),
    ...(typeof m.description === 'string' && m.description ? { description: m.description } : {}),
    ...(typeof m.unit === 'string' && m.unit ? { unit: m.unit } : {}),
    scope,
    type,
    ...(temporality === undefined ? {} : { temporality }),
    ...(typeof data.isMonotonic === 'boolean' ? { monotonic: data.isMonotonic } : {}),
    points: asArray(data.dataPoints).map(decodePoint),
  }
}

/** Decodes an OTLP/HTTP JSON `ExportMetricsServiceRequest`. */
export const decodeExportRequest = (
  body: unknown,
  headers: Record<string, string>,
  receivedAt = Date.now()
): ReceivedExport[] =>
  asArray(asObject(body).resourceMetrics).map((rm) => {
    const r = asObject(rm)
    return {
      headers,
      resource: decodeAttributes(asObject(r.resource).attributes),
      metrics: asArray(r.scopeMetrics).flatMap((sm) => {
        const scope = String(asObject(asObject(sm).scope).name ?? '')
        return asArray(asObject(sm).metrics).map((m) => decodeMetric(m, scope))
      }),
      receivedAt,
    }
  })

/** Every point of metric `name` across `exports`, with the resource it came from. */
export const pointsOf = (
  exports: readonly ReceivedExport[],
  name: string
): Array<ReceivedPoint & { resource: Record<string, unknown>; metric: ReceivedMetric }> =>
  exports.flatMap((e) =>
    e.metrics
      .filter((m) => m.name === name)
      .flatMap((metric) => metric.points.map((p) => ({ ...p, resource: e.resource, metric })))
  )

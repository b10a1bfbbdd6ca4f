import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'

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

/** A running receiver. */
export interface OtlpReceiver {
  /** Base URL, e.g. `http://127.0.0.1:41234`: use it as `OTEL_EXPORTER_OTLP_ENDPOINT`. */
  readonly url: string
  /** Every export received so far, oldest first (optionally only one `service.name`'s). */
  received(service?: string): ReceivedExport[]
  clear(): void
  close(): Promise<void>
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

const readBody = async (req: IncomingMessage): Promise<Buffer> => {
  const chunks: Buffer[] = []
  for await (const chunk of req) chunks.push(chunk as Buffer)
  return Buffer.concat(chunks)
}

const send = (res: ServerResponse, status: number, body: unknown): void => {
  res.writeHead(status, { 'content-type': 'application/json' })
  res.end(JSON.stringify(body))
}

/**
 * Starts an OTLP/HTTP metrics receiver on 127.0.0.1 (port 0 unless given). Routes:
 *
 * - `POST /v1/metrics` (also under any prefix, e.g. `/tenant-a/v1/metrics`): JSON
 *   (`application/json`) only; protobuf is answered 415. Answers `{}` (full success).
 * - `POST /hang/v1/metrics`: reads the body and never answers (until `close()`), to test
 *   export timeouts.
 * - `GET /__received[?service=NAME]`: the decoded {@link ReceivedExport}s, for tests that run
 *   where they cannot call {@link OtlpReceiver.received} (inside workerd).
 * - `DELETE /__received`: clears them.
 */
export const startOtlpReceiver = async (port = 0): Promise<OtlpReceiver> => {
  const exports: ReceivedExport[] = []
  const hanging = new Set<ServerResponse>()
  const received = (service?: string): ReceivedExport[] =>
    service === undefined
      ? [...exports]
      : exports.filter((e) => e.resource['service.name'] === service)

  const server: Server = createServer(async (req, res) => {
    const url = new URL(req.url ?? '/', 'http://receiver')
    try {
      if (url.pathname === '/__received') {
        if (req.method === 'DELETE') {
          exports.length = 0
          return send(res, 204, null)
        }
        return send(res, 200, received(url.searchParams.get('service') ?? undefined))
      }
      if (req.method === 'POST' && url.pathname.endsWith('/v1/metrics')) {
        const body = await readBody(req)
        if (url.pathname === '/hang/v1/metrics') {
          hanging.add(res)
          return
        }
        const type = req.headers['content-type'] ?? ''
        if (!type.startsWith('application/json')) {
          return send(res, 415, { message: `unsupported content-type ${type}` })
        }
        const headers = Object.fromEntries(
          Object.entries(req.headers).map(([k, v]) => [
            k,
            Array.isArray(v) ? v.join(', ') : (v ?? ''),
          ])
        )
        exports.push(...decodeExportRequest(JSON.parse(body.toString('utf8')), headers))
        return send(res, 200, {})
      }
      send(res, 404, { message: 'not found' })
    } catch (error) {
      send(res, 400, { message: error instanceof Error ? error.message : String(error) })
    }
  })
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject)
    server.listen(port, '127.0.0.1', () => resolve())
  })
  const address = server.address() as AddressInfo
  return {
    url: `http://127.0.0.1:${address.port}`,
    received,
    clear: () => {
      exports.length = 0
    },
    close: () =>
      new Promise<void>((resolve) => {
        for (const res of hanging) res.destroy()
        server.close(() => resolve())
        server.closeAllConnections()
      }),
  }
}

/** A loopback URL nothing listens on (bound, then released), for "collector down" tests. */
export const closedPortUrl = async (): Promise<string> => {
  const server = createServer()
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()))
  const { port } = server.address() as AddressInfo
  await new Promise<void>((resolve) => server.close(() => resolve()))
  return `http://127.0.0.1:${port}`
}

declare module 'vitest' {
  export interface ProvidedContext {
    /** The OTLP receiver's base URL (see `test/support/otlp-receiver.ts`). */
    otlpReceiver: string
    /** A loopback base URL nothing listens on. */
    otlpClosed: string
  }
}

import { JsonMetricsSerializer } from '@opentelemetry/otlp-transformer'
import type { ResourceMetrics } from '@opentelemetry/sdk-metrics'

/** How one OTLP/HTTP JSON export is sent. */
export interface OtlpSendOptions {
  /** The full metrics URL, e.g. `http://collector:4318/v1/metrics`. */
  readonly url: string
  /** Extra headers, e.g. an API key. */
  readonly headers?: Readonly<Record<string, string>>
  /** Abandon the request after this long. */
  readonly timeoutMs: number
  /** The fetch to use. @default globalThis.fetch */
  readonly fetch?: typeof fetch
}

/** What one export did. Exports never throw: failures are reported here. */
export type ExportResult =
  | { readonly status: 'sent'; readonly httpStatus: number; readonly points: number }
  | {
      readonly status: 'failed'
      readonly points: number
      readonly httpStatus?: number
      readonly error: string
    }

/** Counts the data points in a collection, for results and logs. */
export const countPoints = (resourceMetrics: ResourceMetrics): number => {
  let points = 0
  for (const scope of resourceMetrics.scopeMetrics) {
    for (const metric of scope.metrics) points += metric.dataPoints.length
  }
  return points
}

/**
 * POSTs one collection as OTLP/HTTP JSON (`application/json`, encoded by
 * `@opentelemetry/otlp-transformer`, the SDK exporters' own encoder), bounded by
 * `AbortSignal.timeout`. Resolves with the outcome; never rejects, never retries (with
 * cumulative temporality the next export carries everything again).
 */
export const sendOtlpJson = async (
  resourceMetrics: ResourceMetrics,
  options: OtlpSendOptions
): Promise<ExportResult> => {
  const points = countPoints(resourceMetrics)
  try {
    const body = JsonMetricsSerializer.serializeRequest(resourceMetrics)
    if (!body) return { status: 'failed', points, error: 'serialisation produced no body' }
    const response = await (options.fetch ?? fetch)(options.url, {
      method: 'POST',
      headers: { ...options.headers, 'content-type': 'application/json' },
      // TextEncoder output: backed by a plain ArrayBuffer, as BodyInit requires.
      body: body as Uint8Array<ArrayBuffer>,
      signal: AbortSignal.timeout(options.timeoutMs),
    })
    // Always consume the body: Workers and Deno keep the connection (and a subrequest slot)
    // until it is read or cancelled.
    await response.body?.cancel().catch(() => {})
    return response.ok
      ? { status: 'sent', httpStatus: response.status, points }
      : { status: 'failed', httpStatus: response.status, points, error: `HTTP ${response.status}` }
  } catch (error) {
    return {
      status: 'failed',
      points,
      error: error instanceof Error ? error.message : String(error),
    }
  }
}

import type { Collection } from './web-meter.ts'

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

/**
 * POSTs one collection as OTLP/HTTP JSON (`application/json`, the request
 * `WebMeterProvider.collect` encoded), bounded by
 * `AbortSignal.timeout`. Resolves with the outcome; never rejects, never retries (with
 * cumulative temporality the next export carries everything again).
 */
export const sendOtlpJson = async (
  collection: Pick<Collection, 'request' | 'points'>,
  options: OtlpSendOptions
): Promise<ExportResult> => {
  const { points } = collection
  try {
    const body = JSON.stringify(collection.request)
    const response = await (options.fetch ?? fetch)(options.url, {
      method: 'POST',
      headers: { ...options.headers, 'content-type': 'application/json' },
      body,
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

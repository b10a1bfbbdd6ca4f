/**
 * The load generator of the throughput benchmarks: autocannon, in this process, bounded by a
 * duration or a request count, with every response's latency kept at full precision
 * (autocannon's own histogram rounds to whole milliseconds).
 */
import autocannon from 'autocannon'
import { type LatencySummary, summarize } from './stats.ts'

/** Options of {@link runLoad}. */
export interface LoadOptions {
  url: string
  method?: 'GET' | 'POST'
  headers?: Record<string, string>
  body?: string
  connections: number
  /** Seconds to run; or use `amount`. */
  seconds?: number
  /** Requests to send, in all. */
  amount?: number
}

/** What one load run measured. */
export interface LoadResult {
  /** Latencies of the 2xx responses, in milliseconds. */
  latencies: number[]
  seconds: number
  /** Responses of any status. */
  responses: number
  non2xx: number
  errors: number
  timeouts: number
}

/** Several runs against one target, pooled: responses per second and latency percentiles. */
export interface PooledLoad extends LatencySummary {
  rps: number
  responses: number
  /** Non-2xx responses plus request errors. */
  failures: number
}

/** Pools runs: total responses over total time, percentiles over every latency. */
export const pool = (runs: readonly LoadResult[]): PooledLoad => {
  const seconds = runs.reduce((sum, run) => sum + run.seconds, 0)
  const responses = runs.reduce((sum, run) => sum + run.responses, 0)
  return {
    ...summarize(runs.flatMap((run) => run.latencies)),
    rps: seconds > 0 ? responses / seconds : 0,
    responses,
    failures: runs.reduce((sum, run) => sum + run.non2xx + run.errors, 0),
  }
}

/** Runs autocannon against `url` and summarises what it saw. */
export const runLoad = (options: LoadOptions): Promise<LoadResult> =>
  new Promise((resolve, reject) => {
    const latencies: number[] = []
    const started = performance.now()
    const instance = autocannon(
      {
        url: options.url,
        method: options.method ?? 'POST',
        headers: options.headers,
        body: options.body,
        connections: options.connections,
        ...(options.amount ? { amount: options.amount } : { duration: options.seconds ?? 5 }),
        timeout: 10,
      },
      (error, result) => {
        if (error) return reject(error)
        resolve({
          latencies,
          seconds: (performance.now() - started) / 1000,
          responses: result.requests.total,
          non2xx: result.non2xx,
          errors: result.errors,
          timeouts: result.timeouts,
        })
      }
    )
    instance.on('response', (_client, status, _bytes, responseTime) => {
      if (status >= 200 && status < 300) latencies.push(responseTime)
    })
  })

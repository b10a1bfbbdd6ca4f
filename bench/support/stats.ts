/** Small statistics and formatting helpers shared by the benchmarks. */

/** The `q` quantile (0..1) of ascending `sorted` values, nearest rank; 0 for no values. */
export const quantile = (sorted: readonly number[], q: number): number =>
  sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))] ?? 0

/** Latency summary of `values` (milliseconds): count, p50, p99 and max. */
export interface LatencySummary {
  count: number
  p50: number
  p99: number
  max: number
}

/** Summarises latencies in milliseconds. */
export const summarize = (values: readonly number[]): LatencySummary => {
  const sorted = [...values].sort((a, b) => a - b)
  return {
    count: sorted.length,
    p50: quantile(sorted, 0.5),
    p99: quantile(sorted, 0.99),
    max: sorted.at(-1) ?? 0,
  }
}

/** The median of `values`; 0 for none. */
export const median = (values: readonly number[]): number =>
  quantile(
    [...values].sort((a, b) => a - b),
    0.5
  )

/** Resolves after `ms` milliseconds. */
export const sleep = (ms: number): Promise<void> =>
  new Promise((resolve) => setTimeout(resolve, Math.max(0, ms)))

/** A figure for the table: 3 decimals below 1, 2 below 10, 1 below 1000, else a whole number. */
export const fmt = (value: number): string => {
  if (!Number.isFinite(value)) return String(value)
  const abs = Math.abs(value)
  if (abs < 10) return value.toFixed(abs < 1 ? 3 : 2)
  if (abs < 1000) return value.toFixed(1)
  return Math.round(value).toLocaleString('en-US')
}

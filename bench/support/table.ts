/**
 * The one table every benchmark run prints: a row per measurement, with its comparator
 * measured in the same run and the ratio (on a noisy machine only the ratios mean much).
 */

/** One measurement of the table. */
export interface Row {
  /** The benchmark's number in bench/README.md (1–7). */
  bench: number
  /** What is measured, with its unit. */
  measurement: string
  /** keyline's figure (or `skipped (…)`, `FAILED: …`). */
  keyline: string
  /** The comparator's name and figure. */
  comparator: string
  /** keyline ÷ comparator, e.g. `0.31×`, with the difference where it means more. */
  ratio: string
  /** The target and whether this run meets it, or `—`. */
  target: string
}

/** What a benchmark gets to run with. */
export interface BenchContext {
  /** Tiny durations and counts: proves the benchmark runs; its figures mean nothing. */
  quick: boolean
  /** A scratch directory (logs, bundles), removed at the end. */
  dir: string
  /** Progress, to standard error. */
  progress(message: string): void
}

/** A benchmark: its rows, or a thrown error when it could not run. */
export type Benchmark = (ctx: BenchContext) => Promise<Row[]>

/** `a ÷ b` as `0.31×`; `—` when either is not a positive number. */
export const ratio = (a: number, b: number): string =>
  a > 0 && b > 0 && Number.isFinite(a / b) ? `${(a / b).toFixed(2)}×` : '—'

/** A ratio of latencies with the difference: `3.10× (+7.90 ms)`. */
export const latencyRatio = (a: number, b: number): string =>
  `${ratio(a, b)} (${a >= b ? '+' : '−'}${Math.abs(a - b).toFixed(2)} ms)`

/** A target with its verdict: `≥ 0.85× ✗`. */
export const verdict = (target: string, met: boolean): string => `${target} ${met ? '✓' : '✗'}`

/** Rows of a benchmark that could not run at all. */
export const failedRow = (bench: number, name: string, error: unknown): Row => ({
  bench,
  measurement: name,
  keyline: `FAILED: ${firstLine(error)}`,
  comparator: '—',
  ratio: '—',
  target: '—',
})

const firstLine = (error: unknown): string =>
  (error instanceof Error ? error.message : String(error)).split('\n')[0]?.slice(0, 160) ?? ''

const COLUMNS: [keyof Row, string][] = [
  ['bench', '#'],
  ['measurement', 'measurement'],
  ['keyline', 'keyline'],
  ['comparator', 'comparator (same run)'],
  ['ratio', 'ratio'],
  ['target', 'target'],
]

/** The rows as one Markdown table, laid out as Biome formats Markdown (pastes as it is). */
export const formatTable = (rows: readonly Row[]): string => {
  const cells = rows.map((row) => COLUMNS.map(([key]) => String(row[key]).replaceAll('|', '\\|')))
  const widths = COLUMNS.map(([, title], i) =>
    Math.max(3, title.length, ...cells.map((line) => (line[i] ?? '').length))
  )
  const line = (values: string[]) =>
    `| ${values.map((v, i) => v.padEnd(widths[i] ?? 0)).join(' | ')} |`
  return [
    line(COLUMNS.map(([, title]) => title)),
    line(widths.map((w) => '-'.repeat(w))),
    ...cells.map(line),
  ].join('\n')
}

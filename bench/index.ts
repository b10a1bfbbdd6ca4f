/**
 * The benchmark suite: `npm run bench` (full) and `npm run bench:quick` (tiny durations and
 * counts: proves every benchmark runs, its figures mean nothing). Runs benchmarks 1–7 of
 * bench/README.md one after the other and prints one table, each row a measurement, its
 * comparator measured in the same run and the ratio. `--only 1,5` runs some of them.
 *
 * Exits 1 only when a benchmark could not run (it crashed, or its requests failed), never
 * because of a figure: targets are reported, not asserted. Every process it starts is
 * stopped at the end, on error and on Ctrl-C.
 */
import { execFileSync } from 'node:child_process'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { parseArgs } from 'node:util'
import { inProcess } from './in-process.ts'
import { proxyThroughput } from './proxy-throughput.ts'
import { redaction } from './redaction.ts'
import { rotationSummary } from './rotation-summary.ts'
import { sseRelay } from './sse-relay.ts'
import { monitorOtherLoad } from './support/machine.ts'
import { isOurGroup, ROOT, stopAll, stopAllOnSignal } from './support/processes.ts'
import {
  type BenchContext,
  type Benchmark,
  failedRow,
  formatTable,
  type Row,
} from './support/table.ts'
import { workerBundle } from './worker-bundle.ts'
import { workerColdStart } from './worker-cold-start.ts'

const BENCHMARKS: [number, string, Benchmark][] = [
  [1, 'proxy throughput', proxyThroughput],
  [2, 'SSE relay', sseRelay],
  [3, 'in process', inProcess],
  [4, 'redaction', redaction],
  [5, 'Worker bundle', workerBundle],
  [6, 'Workers cold start', workerColdStart],
  [7, 'rotation under load', rotationSummary],
]

const { values } = parseArgs({
  options: {
    quick: { type: 'boolean', default: false },
    only: { type: 'string' },
  },
})
const only = values.only ? new Set(values.only.split(',').map(Number)) : undefined

const commit = (): string => {
  try {
    const hash = execFileSync('git', ['rev-parse', '--short', 'HEAD'], { cwd: ROOT })
    const dirty = execFileSync('git', ['status', '--porcelain', '--', 'src'], { cwd: ROOT })
    return `${hash.toString().trim()}${dirty.length ? ' (src/ has uncommitted changes)' : ''}`
  } catch {
    return 'unknown'
  }
}

stopAllOnSignal()
const dir = mkdtempSync(join(tmpdir(), 'keyline-bench-'))
const started = performance.now()
const monitor = monitorOtherLoad(isOurGroup)
const otherLoads: number[] = []
const ctx: BenchContext = {
  quick: values.quick,
  dir,
  progress: (message) =>
    console.error(`  … ${((performance.now() - started) / 1000).toFixed(1)} s: ${message}`),
}
const rows: Row[] = []
const failed: string[] = []
const timings: string[] = []
console.error(
  `keyline benchmarks (${values.quick ? 'quick: figures mean nothing' : 'full'}), commit ${commit()}, node ${process.version}`
)
try {
  for (const [number, name, run] of BENCHMARKS) {
    if (only && !only.has(number)) continue
    const t0 = performance.now()
    console.error(`▶ ${number}. ${name}`)
    try {
      rows.push(...(await run(ctx)))
    } catch (error) {
      failed.push(`${number}. ${name}`)
      console.error(`✖ ${number}. ${name}:`, error)
      rows.push(failedRow(number, name, error))
    } finally {
      await stopAll()
      const other = monitor.mark()
      if (other !== undefined) otherLoads.push(other * ((performance.now() - t0) / 1000))
      const load = other === undefined ? '' : `, other load ${Math.round(other * 100)}%`
      timings.push(`${number}: ${((performance.now() - t0) / 1000).toFixed(1)} s${load}`)
    }
  }
} finally {
  await stopAll()
  rmSync(dir, { recursive: true, force: true })
}

monitor.stop()
// Quick figures mean nothing: show the targets without a verdict.
if (values.quick) {
  for (const row of rows) {
    if (row.target !== '—') row.target = `${row.target.replace(/ [✓✗]$/, '')} (not judged)`
  }
}
const other = otherLoads.length
  ? otherLoads.reduce((sum, x) => sum + x, 0) / ((performance.now() - started) / 1000)
  : undefined
console.log(`\n${formatTable(rows)}\n`)
console.log(
  `${values.quick ? 'quick run (figures mean nothing)' : 'full run'} in ${((performance.now() - started) / 1000).toFixed(1)} s (${timings.join('; ')})`
)
if (other !== undefined) {
  console.log(
    `other processes kept ${Math.round(other * 100)}% of the machine's CPU busy meanwhile${other > 0.1 ? ': figures are noisier than usual' : ''}`
  )
}
if (failed.length) console.log(`✖ could not run: ${failed.join(', ')}`)
process.exit(failed.length ? 1 : 0)

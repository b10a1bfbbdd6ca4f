/**
 * Benchmark 7, rotation under load: runs `bench/rotation.ts --json` (what
 * `npm run bench:rotation` runs) and puts its summary in the table: latency and throughput
 * during rotation against the steady state before it, and the failed requests, which must be 0.
 */
import { baseEnv, runChild } from './support/processes.ts'
import { fmt } from './support/stats.ts'
import { type BenchContext, latencyRatio, type Row, ratio, verdict } from './support/table.ts'

interface PhaseFigures {
  requests: number
  failures: number
  rps: number
  p50: number
  p99: number
}

/** Runs benchmark 7. */
export const rotationSummary = async (ctx: BenchContext): Promise<Row[]> => {
  const args = ctx.quick
    ? ['--clients', '4', '--steady', '1', '--rotations', '1']
    : ['--clients', '32', '--steady', '5', '--rotations', '5']
  ctx.progress(`rotation: node bench/rotation.ts ${args.join(' ')}`)
  const { code, output } = await runChild(
    process.execPath,
    ['bench/rotation.ts', '--json', ...args],
    { env: baseEnv(), timeoutMs: 120_000 }
  )
  const line = output
    .split('\n')
    .reverse()
    .find((l) => l.startsWith('{'))
  if (!line) throw new Error(`bench/rotation.ts exited ${code} without a summary:\n${output}`)
  const { steady, rotating, rotations, byFailover } = JSON.parse(line) as {
    steady: PhaseFigures
    rotating: PhaseFigures
    rotations: number
    byFailover: number
  }
  const failures = steady.failures + rotating.failures
  if (failures > 0 || code !== 0) {
    throw new Error(
      `bench/rotation.ts: ${failures} failed requests (exit ${code}); ${output.trim().split('\n').slice(-2).join('; ')}`
    )
  }
  return [
    {
      bench: 7,
      measurement: 'rotation under load: p99 (ms)',
      keyline: `rotating ${fmt(rotating.p99)}`,
      comparator: `steady state ${fmt(steady.p99)}`,
      ratio: latencyRatio(rotating.p99, steady.p99),
      target: '—',
    },
    {
      bench: 7,
      measurement: 'rotation under load: throughput (req/s)',
      keyline: `rotating ${fmt(rotating.rps)}`,
      comparator: `steady state ${fmt(steady.rps)}`,
      ratio: ratio(rotating.rps, steady.rps),
      target: '—',
    },
    {
      bench: 7,
      measurement: `rotation under load: failed requests (${rotations} rotations, ${byFailover} promoted by failover)`,
      keyline: `${rotating.failures} of ${rotating.requests}`,
      comparator: `steady state ${steady.failures} of ${steady.requests}`,
      ratio: '—',
      target: verdict('0', failures === 0),
    },
  ]
}

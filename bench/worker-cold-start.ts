/**
 * Benchmark 6, Workers cold start: from handing a bundle to miniflare (wrangler's, which
 * starts workerd and loads the Worker) to the first response of `GET /healthz`, for keyline's
 * Worker (benchmark 5's bundle) and for the bare Hono proxy Worker built with wrangler's
 * esbuild. Both pay workerd's own start-up; the difference is loading the bundle.
 */
import { fmt, median } from './support/stats.ts'
import { type BenchContext, latencyRatio, type Row } from './support/table.ts'
import { buildBareWorker, buildKeylineWorker, coldStart } from './support/workers.ts'

/** Runs benchmark 6. */
export const workerColdStart = async (ctx: BenchContext): Promise<Row[]> => {
  const [keyline, bare] = await Promise.all([
    buildKeylineWorker(ctx.dir).then((b) => b.path),
    buildBareWorker(ctx.dir),
  ])
  const runs = ctx.quick ? 1 : 5
  const warmup = ctx.quick ? 0 : 1
  const times = { keyline: [] as number[], bare: [] as number[] }
  for (let run = 1; run <= warmup + runs; run++) {
    ctx.progress(`cold start: run ${run}/${warmup + runs}${run <= warmup ? ' (warm-up)' : ''}`)
    const k = await coldStart(keyline)
    const b = await coldStart(bare)
    if (run > warmup) {
      times.keyline.push(k)
      times.bare.push(b)
    }
  }
  const k = median(times.keyline)
  const b = median(times.bare)
  return [
    {
      bench: 6,
      measurement: `Workers cold start to first /healthz (ms, median of ${runs})`,
      keyline: fmt(k),
      comparator: `bare Hono worker ${fmt(b)}`,
      ratio: latencyRatio(k, b),
      target: '—',
    },
  ]
}

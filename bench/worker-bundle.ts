/**
 * Benchmark 5, the Worker bundle: keyline's Worker as `wrangler deploy --dry-run` builds it,
 * raw and gzip size (gzip as wrangler reports it, else zlib's default level) against issue 18's
 * 64 KiB gzip target, and the packages taking most of it (from esbuild's metafile). Its cold
 * start is benchmark 6 (worker-cold-start.ts).
 */
import { readFileSync } from 'node:fs'
import { gzipSync } from 'node:zlib'
import { fmt } from './support/stats.ts'
import { type BenchContext, type Row, ratio, verdict } from './support/table.ts'
import { buildKeylineWorker, packageSizes } from './support/workers.ts'

/** The target, KiB of gzip. */
const TARGET_KIB = 64

/** Runs benchmark 5. */
export const workerBundle = async (ctx: BenchContext): Promise<Row[]> => {
  ctx.progress('worker bundle: wrangler deploy --dry-run')
  const bundle = await buildKeylineWorker(ctx.dir)
  const gzipKiB = bundle.wranglerKiB?.gzip ?? gzipSync(readFileSync(bundle.path)).length / 1024
  const rawKiB = bundle.bytes / 1024
  const sizes = packageSizes(bundle.metafile)
  const total = sizes.reduce((sum, [, bytes]) => sum + bytes, 0)
  const largest = sizes
    .slice(0, 6)
    .map(([name, bytes]) => `${name} ${fmt(bytes / 1024)} (${Math.round((100 * bytes) / total)}%)`)
    .join(', ')
  return [
    {
      bench: 5,
      measurement: 'Worker bundle, gzip (KiB)',
      keyline: fmt(gzipKiB),
      comparator: `target ${TARGET_KIB}`,
      ratio: ratio(gzipKiB, TARGET_KIB),
      target: verdict(`≤ ${TARGET_KIB} KiB`, gzipKiB <= TARGET_KIB),
    },
    {
      bench: 5,
      measurement: 'Worker bundle, raw (KiB)',
      keyline: fmt(rawKiB),
      comparator: '—',
      ratio: '—',
      target: '—',
    },
    {
      bench: 5,
      measurement: 'largest packages in it (raw KiB)',
      keyline: largest,
      comparator: '—',
      ratio: '—',
      target: '—',
    },
  ]
}

import { mkdtemp, readFile, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { gzipSync } from 'node:zlib'
import { build } from 'esbuild'
import { describe, expect, it } from 'vitest'
import { buildKeylineWorker } from '../../bench/support/workers.ts'

/** Issue 18's target for the Worker, KiB of gzip (bench/worker-bundle.ts reports the figure). */
const WORKER_GZIP_KIB = 64

const bundle = async (entry: string) => {
  const result = await build({
    entryPoints: [fileURLToPath(new URL(entry, import.meta.url))],
    bundle: true,
    format: 'esm',
    platform: 'browser',
    conditions: ['workerd', 'worker', 'browser'],
    minify: true,
    write: false,
    metafile: true,
    logLevel: 'silent',
  })
  const code = result.outputFiles[0]?.contents ?? new Uint8Array()
  return { inputs: Object.keys(result.metafile.inputs), gzip: gzipSync(code).length }
}

describe('keyline/vault in a Worker bundle', () => {
  it('holds only Fernet, the vault and the memory/KV stores: no ioredis, no node:, a few KiB', async () => {
    const { inputs, gzip } = await bundle('../../src/vault/index.ts')
    expect(inputs.filter((path) => path.includes('node_modules'))).toEqual([])
    expect(inputs.some((path) => /redis-store|file-store|server-store/.test(path))).toBe(false)
    expect(gzip).toBeLessThan(6 * 1024)
  })
})

describe('the proxy Worker bundle', () => {
  it('holds no @anthropic-ai/sdk: one createApp, and the SDK only where the package entry installs it', async () => {
    const { inputs } = await bundle('../../src/entries/worker.ts')
    expect(inputs.some((path) => path.includes('src/app.ts'))).toBe(true)
    expect(inputs.filter((path) => path.includes('@anthropic-ai/sdk'))).toEqual([])
    expect(inputs.some((path) => path.endsWith('src/index.ts'))).toBe(false)
  })
})

describe('the Worker as wrangler deploy --dry-run builds it', () => {
  it(`is at most ${WORKER_GZIP_KIB} KiB of gzip, the console's files left to the static assets`, async () => {
    const dir = await mkdtemp(join(tmpdir(), 'keyline-worker-bundle-'))
    try {
      const bundle = await buildKeylineWorker(dir)
      const inputs = Object.keys(bundle.metafile.inputs)
      // The page, script and style are served from wrangler.toml's [assets], not the bundle.
      expect(inputs.filter((path) => /console-(assets|script|style|page)\.ts$/.test(path))).toEqual(
        []
      )
      // Nor @opentelemetry/api: wrangler.toml aliases it to src/entries/worker-otel-api.ts.
      expect(inputs.filter((path) => path.includes('@opentelemetry'))).toEqual([])
      const code = await readFile(bundle.path)
      const gzipKiB = bundle.wranglerKiB?.gzip ?? gzipSync(code).length / 1024
      expect(gzipKiB, 'see bench/RESULTS.md for what the Worker carries').toBeLessThanOrEqual(
        WORKER_GZIP_KIB
      )
    } finally {
      await rm(dir, { recursive: true, force: true })
    }
  }, 60_000)
})

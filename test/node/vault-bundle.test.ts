import { fileURLToPath } from 'node:url'
import { gzipSync } from 'node:zlib'
import { build } from 'esbuild'
import { describe, expect, it } from 'vitest'

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

/**
 * Workers tooling of the bundle and cold-start benchmarks, all from node_modules and offline:
 * `wrangler deploy --dry-run` for keyline's bundle (with esbuild's metafile), esbuild (the one
 * wrangler bundles with) for the bare Hono worker, and wrangler's own miniflare (so the
 * workerd wrangler runs) to load a bundle.
 */
import { existsSync, readFileSync } from 'node:fs'
import { createRequire } from 'node:module'
import { dirname, join } from 'node:path'
import { pathToFileURL } from 'node:url'
import { build } from 'esbuild'
import type * as MiniflareModule from 'miniflare'
import { baseEnv, ROOT, runChild } from './processes.ts'

const wranglerPackage = createRequire(join(ROOT, 'package.json')).resolve('wrangler/package.json')

/** Wrangler's miniflare: the one `wrangler dev` runs, with the workerd it depends on. */
const miniflare = async (): Promise<typeof MiniflareModule> =>
  (await import(
    pathToFileURL(createRequire(wranglerPackage).resolve('miniflare')).href
  )) as typeof MiniflareModule

/** The esbuild metafile parts used here. */
export interface Metafile {
  inputs: Record<string, { bytes: number }>
  outputs: Record<
    string,
    { bytes: number; entryPoint?: string; inputs: Record<string, { bytesInOutput: number }> }
  >
}

/** keyline's Worker as `wrangler deploy --dry-run` builds it. */
export interface WorkerBundle {
  /** The main module. */
  path: string
  bytes: number
  /** wrangler's own "Total Upload: … / gzip: …" figures, in KiB, when it printed them. */
  wranglerKiB?: { raw: number; gzip: number }
  metafile: Metafile
}

const wranglerToml = (): string => readFileSync(join(ROOT, 'wrangler.toml'), 'utf8')

/** The `compatibility_date` of wrangler.toml. */
export const compatibilityDate = (): string =>
  /^compatibility_date\s*=\s*"([^"]+)"/m.exec(wranglerToml())?.[1] ?? '2026-01-01'

let bundle: Promise<WorkerBundle> | undefined

/** Node 22 from node_modules (wrangler refuses older ones), else the one running this. */
const nodeBin = (): string => {
  const local = join(ROOT, 'node_modules', '.bin', 'node')
  return existsSync(local) ? local : process.execPath
}

/**
 * Builds keyline's Worker once per run: `wrangler deploy --dry-run --outdir <dir>/worker
 * --metafile=<dir>/worker-meta.json`, with `WRANGLER_SEND_METRICS=false`.
 */
export const buildKeylineWorker = (dir: string): Promise<WorkerBundle> => {
  bundle ??= (async () => {
    const outdir = join(dir, 'worker')
    const metafile = join(dir, 'worker-meta.json')
    const wrangler = join(dirname(wranglerPackage), 'bin', 'wrangler.js')
    const { code, output } = await runChild(
      nodeBin(),
      [wrangler, 'deploy', '--dry-run', `--outdir=${outdir}`, `--metafile=${metafile}`],
      {
        env: { ...baseEnv(), WRANGLER_SEND_METRICS: 'false', CI: 'true' },
        timeoutMs: 120_000,
      }
    )
    if (code !== 0) throw new Error(`wrangler deploy --dry-run failed:\n${output.slice(-2000)}`)
    const meta = JSON.parse(readFileSync(metafile, 'utf8')) as Metafile
    const main = Object.entries(meta.outputs).find(([, o]) => o.entryPoint)
    if (!main) throw new Error('the metafile names no entry point output')
    const path = join(outdir, main[0].split('/').at(-1) ?? 'worker.js')
    const upload = /Total Upload:\s*([\d.]+)\s*KiB\s*\/\s*gzip:\s*([\d.]+)\s*KiB/.exec(output)
    return {
      path,
      bytes: readFileSync(path).length,
      ...(upload ? { wranglerKiB: { raw: Number(upload[1]), gzip: Number(upload[2]) } } : {}),
      metafile: meta,
    }
  })()
  return bundle
}

/** The package an esbuild input path belongs to: `zod`, `@scope/name`, or `keyline (src/)`. */
export const packageOf = (input: string): string => {
  const at = input.lastIndexOf('node_modules/')
  if (at < 0) return input.includes('src/') ? 'keyline (src/)' : input
  const [first, second] = input.slice(at + 'node_modules/'.length).split('/')
  return first?.startsWith('@') ? `${first}/${second}` : (first ?? input)
}

/** Bytes of the bundle per package, largest first. */
export const packageSizes = (meta: Metafile): [string, number][] => {
  const sizes = new Map<string, number>()
  for (const output of Object.values(meta.outputs)) {
    if (!output.entryPoint) continue
    for (const [input, { bytesInOutput }] of Object.entries(output.inputs)) {
      const name = packageOf(input)
      sizes.set(name, (sizes.get(name) ?? 0) + bytesInOutput)
    }
  }
  return [...sizes].sort((a, b) => b[1] - a[1])
}

/**
 * Bundles `bench/servers/bare-worker.ts` (the bare Hono proxy as a Worker) with esbuild the
 * way wrangler bundles keyline's: ESM, `workerd` conditions, minified when wrangler.toml says
 * `minify = true`.
 */
export const buildBareWorker = async (dir: string): Promise<string> => {
  const outfile = join(dir, 'bare-worker', 'worker.js')
  await build({
    entryPoints: [join(ROOT, 'bench/servers/bare-worker.ts')],
    outfile,
    bundle: true,
    format: 'esm',
    platform: 'neutral',
    target: 'es2022',
    conditions: ['workerd', 'worker', 'browser'],
    mainFields: ['module', 'main'],
    minify: /^minify\s*=\s*true/m.test(wranglerToml()),
    logLevel: 'error',
  })
  return outfile
}

/**
 * Milliseconds from handing `script` to miniflare (which starts workerd and loads it as a
 * Worker with wrangler.toml's compatibility date, `LOG_LEVEL=info` and a `KEYLINE_KV`
 * namespace) to the first response of `GET /healthz`; the instance is disposed of afterwards.
 */
export const coldStart = async (script: string): Promise<number> => {
  const { Miniflare, NoOpLog } = await miniflare()
  const contents = readFileSync(script, 'utf8')
  const started = performance.now()
  const mf = new Miniflare({
    log: new NoOpLog(),
    // The Worker's own log lines (its access line) are dropped, not printed.
    handleStructuredLogs: () => {},
    workers: [
      {
        config: {
          name: 'bench',
          compatibilityDate: compatibilityDate(),
          manifest: {
            mainModule: 'worker.js',
            modules: { 'worker.js': { type: 'esm', contents } },
          },
          env: {
            LOG_LEVEL: { type: 'text', value: 'info' },
            KEYLINE_KV: { type: 'kv', id: 'keyline-bench' },
          },
        },
      },
    ],
  } as ConstructorParameters<typeof Miniflare>[0])
  try {
    const res = await mf.dispatchFetch('http://127.0.0.1/healthz')
    const body = await res.text()
    const elapsed = performance.now() - started
    if (res.status !== 200)
      throw new Error(`${script}: GET /healthz answered ${res.status} ${body}`)
    return elapsed
  } finally {
    await mf.dispose()
  }
}

import { mkdtemp, readFile, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { build } from 'esbuild'
import { Miniflare } from 'miniflare'
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest'
import { type StubControl, stubControl } from '../stubs/control.ts'
import { forgedEpochRecord } from '../support/forged-epoch.ts'
import { randomValue } from '../unit/admin-harness.ts'

/**
 * The reload epoch across two Workers isolates of one deployment that share one KV namespace:
 * a promotion or reload through instance A reaches instance B within the check interval (1 s in
 * the test worker), with no request to B's admin API doing anything but reading its status.
 */
describe('reload epoch across two workerd isolates sharing KV', { timeout: 60_000 }, () => {
  let dir: string
  let mf: Miniflare
  type Isolate = Awaited<ReturnType<Miniflare['getWorker']>>
  let a: Isolate
  let b: Isolate
  let upstream: StubControl
  let bindings: Record<string, string>
  const INTERVAL_MS = 1000

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'keyline-epoch-'))
    const script = join(dir, 'worker.js')
    await build({
      entryPoints: [fileURLToPath(new URL('./support/admin-worker.ts', import.meta.url))],
      bundle: true,
      format: 'esm',
      platform: 'browser',
      conditions: ['workerd', 'worker', 'browser'],
      outfile: script,
      logLevel: 'silent',
    })
    upstream = await stubControl(inject('stubs').anthropic).session()
    bindings = {
      ADMIN_TOKEN: randomValue('admin', 32),
      ANTHROPIC_API_KEY: randomValue('current'),
      ANTHROPIC_API_KEY_NEW: randomValue('next'),
      ANTHROPIC_BASE_URL: upstream.url,
    }
    await upstream.keys({ replace: [bindings.ANTHROPIC_API_KEY as string] })
    const contents = await readFile(script, 'utf8')
    const env: Record<string, unknown> = { KEYLINE_KV: { type: 'kv', id: 'keyline-epoch-test' } }
    for (const [name, value] of Object.entries(bindings)) env[name] = { type: 'text', value }
    // Two Workers, so two isolates with their own memory, in one workerd bound to one KV
    // namespace (two workerd processes cannot share one persisted KV store: SQLite locks it)
    const worker = (name: string) => ({
      config: {
        name,
        compatibilityDate: '2026-08-15',
        compatibilityFlags: ['nodejs_compat'],
        manifest: { mainModule: 'worker.js', modules: { 'worker.js': { type: 'esm', contents } } },
        env,
      },
    })
    mf = new Miniflare({
      workers: [worker('isolate-a'), worker('isolate-b')],
      resourcePersistencePath: join(dir, 'state'),
    } as ConstructorParameters<typeof Miniflare>[0])
    await mf.ready
    a = await mf.getWorker('isolate-a')
    b = await mf.getWorker('isolate-b')
  })

  afterAll(async () => {
    await mf?.dispose()
    await rm(dir, { recursive: true, force: true })
  })

  const admin = async (isolate: Isolate, path: string, body?: unknown) => {
    const res = await isolate.fetch(`http://keyline.test/admin/keys/${path}`, {
      method: body === undefined ? 'GET' : 'POST',
      headers: {
        authorization: `Bearer ${bindings.ADMIN_TOKEN}`,
        ...(body === undefined ? {} : { 'content-type': 'application/json' }),
      },
      body: body === undefined ? undefined : JSON.stringify(body),
    })
    const text = await res.text()
    expect(res.status, text).toBe(200)
    // biome-ignore lint/suspicious/noExplicitAny: a JSON body read in a test
    return JSON.parse(text) as any
  }

  /** Polls B's status until `ok`; returns how long it took. */
  const until = async (ok: (anthropic: Record<string, unknown>) => boolean): Promise<number> => {
    const started = Date.now()
    for (;;) {
      const status = await admin(b, 'status')
      if (ok(status.providers.anthropic)) return Date.now() - started
      if (Date.now() - started > 10 * INTERVAL_MS) {
        throw new Error(`B never changed: ${JSON.stringify(status.providers.anthropic)}`)
      }
      await new Promise((r) => setTimeout(r, 100))
    }
  }

  it('repeats a reload done through A in B within the interval', async () => {
    const before = await admin(b, 'status')
    expect(before.runtime).toBe('workerd')
    expect(before.providers.anthropic.next.validity).toBe('invalid')
    // the new key becomes valid upstream; B still has the old answer cached
    await upstream.keys({ accept: [bindings.ANTHROPIC_API_KEY_NEW as string] })
    expect((await admin(b, 'status')).providers.anthropic.next.validity).toBe('invalid')
    const reloaded = await admin(a, 'reload', {})
    expect(reloaded.reload.propagated).toBe(true)
    expect(reloaded.providers.anthropic.next.validity).toBe('valid')
    const took = await until((p) => (p.next as { validity: string }).validity === 'valid')
    expect(took).toBeLessThanOrEqual(INTERVAL_MS + 1000)
  })

  // Issue 21, item 4: a record written straight into KV by anyone who can (two public
  // fingerprints, no MAC of this deployment's) promotes nothing, although the next key is valid.
  it('ignores a forged epoch record written straight into KV', async () => {
    const before = (await admin(b, 'status')).providers.anthropic
    const kv = await mf.getKVNamespace('KEYLINE_KV', 'isolate-b')
    await kv.put(
      'keyline:reload-epoch',
      forgedEpochRecord({
        next: `…${bindings.ANTHROPIC_API_KEY_NEW?.slice(-4)}`,
        replaced: before.current.fingerprint,
      })
    )
    // Three check intervals: before the fix B promoted within one.
    const until = Date.now() + 3 * INTERVAL_MS
    while (Date.now() < until) {
      const now = (await admin(b, 'status')).providers.anthropic
      expect(now.current.fingerprint).toBe(before.current.fingerprint)
      await new Promise((r) => setTimeout(r, 200))
    }
  })

  it('repeats a promotion done through A in B: new generation, next key current', async () => {
    const before = (await admin(b, 'status')).providers.anthropic
    const promoted = await admin(a, 'promote', { provider: 'anthropic' })
    const nextFp = `…${bindings.ANTHROPIC_API_KEY_NEW?.slice(-4)}`
    expect(promoted.promoted).toMatchObject({ fingerprint: nextFp, propagated: true })
    const took = await until(
      (p) =>
        (p.current as { fingerprint: string }).fingerprint === nextFp &&
        (p.generation as number) !== before.generation
    )
    expect(took).toBeLessThanOrEqual(INTERVAL_MS + 1000)
    const after = (await admin(b, 'status')).providers.anthropic
    expect(after.current.source).toBe('promoted:ANTHROPIC_API_KEY_NEW')
    expect(after.next).toBeNull()
  })
})

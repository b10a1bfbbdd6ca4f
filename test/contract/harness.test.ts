import { existsSync } from 'node:fs'
import { afterEach, describe, expect, it } from 'vitest'
import { selectedRuntimes } from './harness/describe-runtimes.ts'
import { launchSpec } from './harness/runtimes.ts'
import { type RunningServer, startServer } from './harness/server.ts'

/** The harness's own guarantees: hermetic environments, failure output, no orphans. */
describe('contract harness', () => {
  const started: RunningServer[] = []
  afterEach(async () => {
    await Promise.all(started.splice(0).map((server) => server.stop()))
  })

  const groupAlive = (pid: number): boolean => {
    try {
      process.kill(-pid, 0)
      return true
    } catch {
      return false
    }
  }

  it('never hands the developer environment to a server', async () => {
    const key = 'ANTHROPIC_API_KEY'
    const before = process.env[key]
    process.env[key] = `sk-test-${crypto.randomUUID()}`
    try {
      for (const runtime of ['node', 'deno'] as const) {
        const spec = await launchSpec(runtime, { bindings: { FYERS_CLIENT_ID: 'x' }, dir: '/tmp' })
        expect(Object.keys(spec.env).sort()).toEqual(
          expect.arrayContaining(['FYERS_CLIENT_ID', 'HOME', 'HOST', 'PATH', 'PORT'])
        )
        expect(spec.env).not.toHaveProperty(key)
        expect(spec.env.PATH?.split(':')[0]).toMatch(/\/node_modules\/\.bin$/)
      }
      const worker = await launchSpec('workerd', { bindings: { A: 'x:y' }, dir: '/tmp' })
      expect(worker.env).not.toHaveProperty(key)
      expect(worker.args.join(' ')).not.toContain(key)
      expect(worker.args).toContain('A:x:y')
      expect(worker.args).toContain('--env-file')
    } finally {
      if (before === undefined) delete process.env[key]
      else process.env[key] = before
    }
  })

  it('rejects with the server output when the server exits before it is ready', async () => {
    const failure = startServer('node', { bindings: { SHUTDOWN_TIMEOUT_MS: 'soon' } })
    await expect(failure).rejects.toThrow(/exited before it was ready[\s\S]*SHUTDOWN_TIMEOUT_MS/)
  })

  it('stops the whole process group and removes its directory', async () => {
    for (const runtime of selectedRuntimes(['node', 'deno'])) {
      const server = await startServer(runtime)
      expect(groupAlive(server.pid)).toBe(true)
      await server.stop()
      expect(groupAlive(server.pid)).toBe(false)
      expect(existsSync(server.dir)).toBe(false)
    }
  })

  it.runIf(selectedRuntimes(['workerd']).length > 0)(
    'passes bindings to wrangler dev verbatim and leaves no workerd behind',
    async () => {
      // The scheduled handler logs which providers are configured: the one view of bindings
      // without a provider route.
      const server = await startServer('workerd', {
        bindings: { ANTHROPIC_API_KEY: `sk-test-${crypto.randomUUID()}:$HOME"'\`x` },
      })
      started.push(server)
      const response = await fetch(`${server.url}/cdn-cgi/local/scheduled`)
      await response.body?.cancel()
      await expect
        .poll(() => server.output(), { timeout: 10_000 })
        .toContain('anthropic configured, fyers not configured')
      await server.stop()
      expect(groupAlive(server.pid)).toBe(false)
      expect(existsSync(server.dir)).toBe(false)
    }
  )
})

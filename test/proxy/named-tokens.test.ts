import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { SecretRegistry } from '../../src/secrets/registry.ts'
import { resetTelemetryState } from '../../src/telemetry/instruments.ts'
import { installTestMetrics, type TestMetrics } from '../unit/telemetry/collect.ts'
import { proxyFixture } from './fixture.ts'

let m: TestMetrics
beforeEach(() => {
  resetTelemetryState()
  m = installTestMetrics()
})
afterEach(() => m.shutdown())

const token = (label: string) => `${label}-token-${crypto.randomUUID()}`
const bearer = (value: string) => ({ headers: { authorization: `Bearer ${value}` } })

const sha256Hex = async (value: string): Promise<string> => {
  const digest = await crypto.subtle.digest('SHA-256', new TextEncoder().encode(value))
  return [...new Uint8Array(digest)].map((b) => b.toString(16).padStart(2, '0')).join('')
}

describe('named client tokens', () => {
  it("put the token's name (never the token) in the access line and on the request metric", async () => {
    const billing = token('billing')
    const reports = token('reports')
    const plain = token('plain')
    const f = await proxyFixture({
      KEYLINE_CLIENT_TOKENS: `billing=${billing}, reports=sha256:${await sha256Hex(reports)}, ${plain}`,
    })
    for (const value of [billing, reports, reports, plain]) {
      expect((await f.call('/v1/models', bearer(value))).status).toBe(200)
    }
    const lines = f.logs.filter((l) => l.msg === 'request' && l.route === '/v1/models')
    expect(lines.map((l) => l.client)).toEqual(['billing', 'reports', 'reports', 'unnamed'])
    const logged = JSON.stringify(f.logs)
    for (const value of [billing, reports, plain]) expect(logged).not.toContain(value)

    const byClient = Object.fromEntries(
      (await m.points('keyline.ai.requests')).map((p) => [
        p.attributes['keyline.client.name'],
        p.value,
      ])
    )
    expect(byClient).toEqual({ billing: 1, reports: 2, unnamed: 1 })
  })

  it('keep a plaintext token holding "=" (base64 padding) whole and unnamed', async () => {
    const padded = `${btoa(crypto.randomUUID())}==`.replace(/=+$/, '==')
    const f = await proxyFixture({ KEYLINE_CLIENT_TOKENS: padded })
    expect((await f.call('/v1/models', bearer(padded))).status).toBe(200)
    expect(f.logs.find((l) => l.msg === 'request')?.client).toBe('unnamed')
  })

  it('are listed by the admin status as names and counts, never tokens', async () => {
    const admin = token('admin')
    const [a, b, c] = [token('a'), token('b'), token('c')]
    const f = await proxyFixture({
      ADMIN_TOKEN: admin,
      KEYLINE_CLIENT_TOKENS: `ci=${a},ci=${b},${c}`,
    })
    const res = await f.call('/admin/keys/status', bearer(admin))
    expect(res.status).toBe(200)
    const text = await res.text()
    const body = JSON.parse(text) as { clients: unknown }
    expect(body.clients).toEqual({
      configured: true,
      problem: null,
      source: 'env:KEYLINE_CLIENT_TOKENS',
      count: 3,
      names: { ci: 2, unnamed: 1 },
    })
    for (const value of [a, b, c]) {
      expect(text).not.toContain(value)
      expect(text).not.toContain(value.slice(-8))
    }
  })

  it('removing an entry from KEYLINE_CLIENT_TOKENS_FILE and reloading revokes it at once', async () => {
    const admin = token('admin')
    const [kept, removed] = [token('kept'), token('removed')]
    const files: Record<string, string> = { '/run/tokens': `kept=${kept}\nremoved=${removed}\n` }
    const registry = new SecretRegistry({
      readFile: async (path) => {
        const text = files[path]
        if (text === undefined) throw new Error('no such file')
        return text
      },
      fileCacheMs: 60_000,
    })
    const f = await proxyFixture(
      { ADMIN_TOKEN: admin, KEYLINE_CLIENT_TOKENS: '', KEYLINE_CLIENT_TOKENS_FILE: '/run/tokens' },
      { registry }
    )
    expect((await f.call('/v1/models', bearer(removed))).status).toBe(200)
    files['/run/tokens'] = `kept=${kept}\n`
    // Cached for a minute: only the reload makes the change count now.
    expect((await f.call('/v1/models', bearer(removed))).status).toBe(200)
    const reload = await f.call('/admin/keys/reload', { method: 'POST', ...bearer(admin) })
    expect(reload.status).toBe(200)
    const status = (await reload.json()) as { clients: { names: Record<string, number> } }
    expect(status.clients.names).toEqual({ kept: 1 })
    expect((await f.call('/v1/models', bearer(removed))).status).toBe(401)
    expect((await f.call('/v1/models', bearer(kept))).status).toBe(200)
  })
})

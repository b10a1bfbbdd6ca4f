/**
 * Per-client quotas on Workers: the `KEYLINE_LIMITS` Durable Object namespace of wrangler.toml
 * (class `ClientLimits`), in real workerd. Two apps stand for two isolates: one object per client
 * counts for both, exactly. Runs only in the `workerd` vitest project.
 */
import { env } from 'cloudflare:workers'
import { describe, expect, it } from 'vitest'
import { createApp } from '../../src/app.ts'
import { bindingsOnly } from '../../src/env.ts'
import { durableEngine, type LimitsNamespace } from '../../src/quota/durable-engine.ts'
import { parseClientLimits } from '../../src/quota/limits.ts'
import { FAST_RETRY, proxyFixture } from '../proxy/fixture.ts'
import { awayFromMinuteEdge, QUOTA_TEST_TIMEOUT_MS } from '../support/quota-window.ts'

const namespace = env.KEYLINE_LIMITS as LimitsNamespace

describe('client quotas in a Durable Object', { timeout: QUOTA_TEST_TIMEOUT_MS }, () => {
  it('count exactly across two isolates under 40 parallel requests', async () => {
    const name = `ci${crypto.randomUUID().slice(0, 8)}`
    const ci = `ci-token-${crypto.randomUUID()}`
    const f = await proxyFixture({
      KEYLINE_CLIENT_TOKENS: `${name}=${ci}`,
      KEYLINE_CLIENT_LIMITS: `${name}:rpm=25`,
    })
    const bindings = { ...f.env, KEYLINE_LIMITS: namespace } as unknown as Record<string, string>
    const other = createApp({ env: bindingsOnly, retry: FAST_RETRY, logSink: () => {} })
    await awayFromMinuteEdge()
    const answers = await Promise.all(
      Array.from({ length: 40 }, (_, i) =>
        (i % 2 ? other : f.app).request(
          '/v1/models',
          { headers: { authorization: `Bearer ${ci}` } },
          bindings
        )
      )
    )
    const statuses = answers.map((a) => a.status)
    expect(statuses.filter((s) => s === 200)).toHaveLength(25)
    expect(statuses.filter((s) => s === 429)).toHaveLength(15)
    const usage = await durableEngine(namespace).usage(
      parseClientLimits(`${name}:rpm=25`).clients.get(name) as never,
      Date.now()
    )
    expect(usage.counts.map((c) => [c.kind, c.used])).toEqual([
      ['rpm', 25],
      ['refused', 15],
    ])
    const refused = answers.find((a) => a.status === 429) as Response
    expect(refused.headers.get('keyline-ratelimit-limit')).toBe('25')
    expect(((await refused.json()) as { error: { type: string } }).error.type).toBe(
      'rate_limit_error'
    )
    const admin = `admin-${crypto.randomUUID()}`
    const status = await f.app.request(
      '/admin/keys/status',
      { headers: { authorization: `Bearer ${admin}` } },
      { ...bindings, ADMIN_TOKEN: admin }
    )
    const limits = ((await status.json()) as { limits: { engine: string } }).limits
    expect(limits.engine).toBe('durable-object')
  })

  it('take, charge and read one client’s counters, kept apart from its neighbours', async () => {
    const engine = durableEngine(namespace)
    const table = parseClientLimits('a:rpm=2:tpm=100,b:rpm=2')
    const a = table.clients.get('a') as never
    const b = table.clients.get('b') as never
    await awayFromMinuteEdge()
    const now = Date.now()
    const ta = `a${crypto.randomUUID().slice(0, 6)}`
    const tb = `b${crypto.randomUUID().slice(0, 6)}`
    const aa = { ...(a as object), name: ta } as never
    const bb = { ...(b as object), name: tb } as never
    expect((await engine.take(aa, now)).refused).toBeUndefined()
    await engine.charge(aa, 100, now)
    expect((await engine.take(aa, now)).refused).toBe('tpm')
    expect((await engine.take(bb, now)).refused).toBeUndefined()
    const usage = await engine.usage(aa, now)
    expect(usage.counts.map((c) => [c.kind, c.used])).toEqual([
      ['rpm', 1],
      ['tpm', 100],
      ['refused', 1],
    ])
  })
})

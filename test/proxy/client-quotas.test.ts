import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import type { CounterEngine } from '../../src/quota/limits.ts'
import { SecretRegistry } from '../../src/secrets/registry.ts'
import { resetTelemetryState } from '../../src/telemetry/instruments.ts'
import {
  awayFromMinuteEdge,
  countsOf,
  QUOTA_TEST_TIMEOUT_MS,
  type StatusCount,
} from '../support/quota-window.ts'
import { installTestMetrics, type TestMetrics } from '../unit/telemetry/collect.ts'
import { MESSAGE, type ProxyFixture, proxyFixture } from './fixture.ts'

let m: TestMetrics
beforeEach(() => {
  resetTelemetryState()
  m = installTestMetrics()
})
afterEach(() => m.shutdown())

const token = (label: string) => `${label}-token-${crypto.randomUUID()}`
const ADMIN = `admin-${crypto.randomUUID()}`

/** A proxy with two named clients, `ci` and `bulk`, and the given quotas. */
const quotaFixture = async (
  limits: string,
  env: Record<string, string> = {},
  engine?: CounterEngine
) => {
  await awayFromMinuteEdge()
  const ci = token('ci')
  const bulk = token('bulk')
  const f = await proxyFixture(
    {
      KEYLINE_CLIENT_TOKENS: `ci=${ci},bulk=${bulk}`,
      KEYLINE_CLIENT_LIMITS: limits,
      ADMIN_TOKEN: ADMIN,
      ...env,
    },
    engine ? { limits: engine } : {}
  )
  const as = (value: string, path: string, init: RequestInit = {}) =>
    f.call(path, { ...init, headers: { ...init.headers, authorization: `Bearer ${value}` } })
  const message = (value: string, body: Record<string, unknown> = MESSAGE) =>
    as(value, '/v1/messages', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(body),
    })
  return { f, ci, bulk, as, message }
}

const upstreamCalls = async (f: ProxyFixture, path: string): Promise<number> =>
  ((await f.anthropic.requests()) as { path: string }[]).filter((r) => r.path === path).length

const status = async (f: ProxyFixture) => {
  const answer = await f.call('/admin/keys/status', {
    headers: { authorization: `Bearer ${ADMIN}` },
  })
  expect(answer.status).toBe(200)
  return ((await answer.json()) as { limits: Record<string, unknown> }).limits as {
    engine: string
    issues: string[]
    closed?: string
    clients: Record<string, { counts: StatusCount[]; blocked?: string }>
  }
}

describe('per-client quotas', { timeout: QUOTA_TEST_TIMEOUT_MS }, () => {
  it('pass exactly rpm requests, refuse the next with a 429 in Anthropic shape, and send it nowhere', async () => {
    const { f, ci, as } = await quotaFixture('ci:rpm=3')
    const answers = []
    for (let i = 0; i < 4; i++) answers.push(await as(ci, '/v1/models'))
    expect(answers.map((a) => a.status)).toEqual([200, 200, 200, 429])
    expect(answers.map((a) => a.headers.get('keyline-ratelimit-remaining'))).toEqual([
      '2',
      '1',
      '0',
      '0',
    ])
    for (const a of answers) expect(a.headers.get('keyline-ratelimit-limit')).toBe('3')
    const refused = answers[3] as Response
    const retry = Number(refused.headers.get('retry-after'))
    expect(retry).toBeGreaterThanOrEqual(1)
    expect(retry).toBeLessThanOrEqual(60)
    expect(Number(refused.headers.get('keyline-ratelimit-reset'))).toBe(retry)
    const body = (await refused.json()) as {
      type: string
      error: { type: string; message: string }
    }
    expect(body.type).toBe('error')
    expect(body.error.type).toBe('rate_limit_error')
    expect(body.error.message).toContain('ci')
    expect(body.error.message).toContain('rpm=3')
    expect(await upstreamCalls(f, '/v1/models')).toBe(3)
  })

  it('leave a neighbour without limits untouched, with no rate-limit headers', async () => {
    const { ci, bulk, as } = await quotaFixture('ci:rpm=1')
    expect((await as(ci, '/v1/models')).status).toBe(200)
    expect((await as(ci, '/v1/models')).status).toBe(429)
    for (let i = 0; i < 3; i++) {
      const answer = await as(bulk, '/v1/models')
      expect(answer.status).toBe(200)
      expect(answer.headers.get('keyline-ratelimit-limit')).toBeNull()
    }
  })

  it("answer keyline's error shape on the Fyers route", async () => {
    const { ci, as } = await quotaFixture('ci:rpm=1')
    expect((await as(ci, '/v1/quotes?symbols=NSE:SBIN-EQ')).status).toBe(200)
    const refused = await as(ci, '/v1/quotes?symbols=NSE:SBIN-EQ')
    expect(refused.status).toBe(429)
    const body = (await refused.json()) as {
      type?: string
      error: { type: string; message: string }
    }
    expect(body.type).toBeUndefined()
    expect(body.error.type).toBe('rate_limit_error')
    expect(body.error.message).toContain('rpm=1')
    expect(refused.headers.get('retry-after')).toMatch(/^\d+$/)
  })

  it('count /fyers/* under the same quota: the SDK route is refused too, and nothing reaches Fyers', async () => {
    const { f, ci, as } = await quotaFixture('ci:rpm=2')
    expect((await as(ci, '/v1/quotes?symbols=NSE:SBIN-EQ')).status).toBe(200)
    expect((await as(ci, '/fyers/data/quotes?symbols=NSE:SBIN-EQ')).status).toBe(200)
    const before = ((await f.fyers.requests()) as unknown[]).length
    const refused = await as(ci, '/fyers/data/quotes?symbols=NSE:SBIN-EQ')
    expect(refused.status).toBe(429)
    const body = (await refused.json()) as { type?: string; error: { type: string } }
    expect(body.type).toBeUndefined()
    expect(body.error.type).toBe('rate_limit_error')
    expect(refused.headers.get('keyline-ratelimit-remaining')).toBe('0')
    expect(((await f.fyers.requests()) as unknown[]).length).toBe(before)
  })

  it('charge tpm from a plain answer’s usage and refuse once it is used up', async () => {
    const probe = await quotaFixture('bulk:rpm=100')
    const first = (await (await probe.message(probe.bulk)).json()) as {
      usage: { input_tokens: number; output_tokens: number }
    }
    const used = first.usage.input_tokens + first.usage.output_tokens
    const { f, ci, message } = await quotaFixture(`ci:tpm=${used + 1}`)
    expect((await message(ci)).status).toBe(200)
    // Under the limit before the call: it goes (and overshoots); then the limit is reached.
    expect((await message(ci)).status).toBe(200)
    const refused = await message(ci)
    expect(refused.status).toBe(429)
    expect(((await refused.json()) as { error: { message: string } }).error.message).toContain(
      'tpm='
    )
    expect(await upstreamCalls(f, '/v1/messages')).toBe(2)
    expect(countsOf((await status(f)).clients.ci).tpm?.used).toBe(used * 2)
    const tokens = await m.points('keyline.client.tokens')
    expect(tokens.find((p) => p.attributes['keyline.client.name'] === 'ci')?.value).toBe(used * 2)
  })

  it('charge tpm from a streamed answer (message_start + message_delta)', async () => {
    const { f, ci, message } = await quotaFixture('ci:tpm=1')
    const streamed = await message(ci, { ...MESSAGE, stream: true })
    expect(streamed.status).toBe(200)
    const text = await streamed.text()
    const start = /"input_tokens":(\d+)/.exec(text)
    const outputs = [...text.matchAll(/"output_tokens":(\d+)/g)].map((x) => Number(x[1]))
    const used = Number(start?.[1]) + Math.max(...outputs)
    await expect.poll(async () => countsOf((await status(f)).clients.ci).tpm?.used).toBe(used)
    expect((await message(ci, { ...MESSAGE, stream: true })).status).toBe(429)
  })

  it('refuse a client whose entry is malformed, report it by its text, keep the others', async () => {
    const { f, ci, bulk, as } = await quotaFixture('ci:rpm=ten,bulk:rpm=5,ghost:rpd=9')
    const refused = await as(ci, '/v1/models')
    expect(refused.status).toBe(503)
    expect(await refused.text()).toContain('ci:rpm=ten')
    expect((await as(bulk, '/v1/models')).status).toBe(200)
    const s = await status(f)
    expect(s.issues.join('\n')).toContain('"ci:rpm=ten"')
    expect(s.issues.join('\n')).toContain('no client token is named ghost')
    expect(s.clients.ci?.blocked).toContain('rpm=ten')
    expect(countsOf(s.clients.ghost).refused?.used).toBe(0)
    expect(countsOf(s.clients.bulk).rpm).toMatchObject({ limit: 5, used: 1 })
  })

  it('treat a blank KEYLINE_CLIENT_LIMITS as unset: the limits of KEYLINE_CLIENT_LIMITS_FILE apply', async () => {
    const registry = new SecretRegistry({
      readFile: async (path) => {
        if (path !== '/run/limits') throw new Error('no such file')
        return 'ci:rpm=2\n'
      },
      fileCacheMs: 60_000,
    })
    for (const blank of ['', '  ']) {
      await awayFromMinuteEdge()
      const ci = token('ci')
      const f = await proxyFixture(
        {
          KEYLINE_CLIENT_TOKENS: `ci=${ci}`,
          KEYLINE_CLIENT_LIMITS: blank,
          KEYLINE_CLIENT_LIMITS_FILE: '/run/limits',
          ADMIN_TOKEN: ADMIN,
        },
        { registry }
      )
      const answers = []
      for (let i = 0; i < 3; i++)
        answers.push(
          (await f.call('/v1/models', { headers: { authorization: `Bearer ${ci}` } })).status
        )
      expect(answers).toEqual([200, 200, 429])
      expect(await upstreamCalls(f, '/v1/models')).toBe(2)
      expect(countsOf((await status(f)).clients.ci).rpm).toMatchObject({ limit: 2 })
    }
  })

  it('refuse every client when an entry names none', async () => {
    const { f, ci, bulk, as } = await quotaFixture('rpm=5,ci:rpm=9')
    expect((await as(ci, '/v1/models')).status).toBe(200)
    expect((await as(bulk, '/v1/models')).status).toBe(503)
    expect((await status(f)).closed).toContain('entry "rpm=5"')
  })

  it('count refusals and requests in the metrics and the status', async () => {
    const { f, ci, as } = await quotaFixture('ci:rpm=1:rpd=100')
    for (let i = 0; i < 3; i++) await as(ci, '/v1/models')
    const s = await status(f)
    expect(s.engine).toBe('memory')
    expect(countsOf(s.clients.ci).refused?.used).toBe(2)
    expect(countsOf(s.clients.ci).rpd).toMatchObject({ limit: 100, used: 1 })
    const limited = await m.points('keyline.client.limited')
    expect(
      limited.map((p) => [
        p.attributes['keyline.client.name'],
        p.attributes['keyline.limit'],
        p.value,
      ])
    ).toEqual([['ci', 'rpm', 2]])
    expect((await m.points('keyline.client.requests'))[0]?.value).toBe(3)
  })

  it('serve within the budget when the counter store hangs, warn once, and refuse when told to', async () => {
    const hanging: CounterEngine = {
      kind: 'redis',
      take: () => new Promise(() => {}),
      charge: () => new Promise(() => {}),
      usage: () => new Promise(() => {}),
    }
    const open = await quotaFixture('ci:rpm=1', {}, hanging)
    const started = Date.now()
    for (let i = 0; i < 3; i++) expect((await open.as(open.ci, '/v1/models')).status).toBe(200)
    expect(Date.now() - started).toBeLessThan(3 * 50 + 1500)
    expect(
      open.f.logs.filter((l) => String(l.msg).includes('counter store is unavailable'))
    ).toHaveLength(1)
    expect((await m.points('keyline.client.limits.unavailable'))[0]?.value).toBe(3)

    const closed = await quotaFixture('ci:rpm=1', { KEYLINE_CLIENT_LIMITS_FAIL: 'closed' }, hanging)
    const refused = await closed.as(closed.ci, '/v1/models')
    expect(refused.status).toBe(503)
    expect(await upstreamCalls(closed.f, '/v1/models')).toBe(0)
  })
})

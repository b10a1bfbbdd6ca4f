import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { resetTelemetryState } from '../../src/telemetry/instruments.ts'
import { installTestMetrics, type TestMetrics } from '../unit/telemetry/collect.ts'
import { MESSAGE, proxyFixture } from './fixture.ts'

let m: TestMetrics
beforeEach(() => {
  resetTelemetryState()
  m = installTestMetrics()
})
afterEach(() => m.shutdown())

const sum = (points: { value: unknown }[]): number =>
  points.reduce((total, p) => total + (typeof p.value === 'number' ? p.value : 0), 0)

describe('failure telemetry from real proxy traffic', () => {
  it('counts AI calls and failures by error.type, with token usage, streamed too', async () => {
    const f = await proxyFixture({}, { retry: { maxRetries: 0 } })
    expect((await f.messages(MESSAGE)).status).toBe(200)
    const streamed = await f.messages({ ...MESSAGE, stream: true })
    expect(await streamed.text()).toContain('message_stop')
    await f.anthropic.fault({ kind: 'status', status: 529 })
    expect((await f.messages(MESSAGE)).status).toBe(529)

    const requests = (await m.points('keyline.ai.requests')).filter((p) => p.value)
    expect(sum(requests)).toBe(3)
    expect(requests[0]?.attributes).toMatchObject({
      'gen_ai.provider.name': 'anthropic',
      'gen_ai.operation.name': 'chat',
    })
    const failures = (await m.points('keyline.ai.failures')).filter((p) => p.value)
    expect(failures).toHaveLength(1)
    expect(failures[0]?.attributes['error.type']).toBe('overloaded_error')
    const usage = await m.points('gen_ai.client.token.usage')
    const types = usage.map((p) => p.attributes['gen_ai.token.type']).sort()
    expect(types).toEqual(['input', 'output'])
    const [input] = usage.filter((p) => p.attributes['gen_ai.token.type'] === 'input')
    expect((input?.value as { count: number } | undefined)?.count).toBe(2)
  })

  it('tracks consecutive failures and resets them on a success', async () => {
    const f = await proxyFixture({}, { retry: { maxRetries: 0 } })
    await f.anthropic.mode({ kind: 'status', status: 500 })
    for (let i = 0; i < 5; i++) expect((await f.messages(MESSAGE)).status).toBe(500)
    const streak = async () =>
      (await m.points('keyline.upstream.consecutive_failures')).find(
        (p) => p.attributes['keyline.provider'] === 'anthropic'
      )?.value
    expect(await streak()).toBe(5)
    await f.anthropic.mode(null)
    expect((await f.messages(MESSAGE)).status).toBe(200)
    expect(await streak()).toBe(0)
  })

  it('counts Fyers quote failures with the Fyers code, and failovers', async () => {
    const next = `test-token-next-${crypto.randomUUID()}`
    const f = await proxyFixture({ FYERS_ACCESS_TOKEN_NEW: next }, { retry: { maxRetries: 0 } })
    await f.fyers.fault(
      { kind: 'status', status: 401, code: -16 },
      { kind: 'status', status: 401, code: -16 }
    )
    expect((await f.call('/v1/quotes?symbols=NSE:SBIN-EQ')).status).toBe(502)
    await f.fyers.keys({ replace: [next] })
    expect((await f.call('/v1/quotes?symbols=NSE:SBIN-EQ')).status).toBe(200)
    const failures = (await m.points('keyline.fyers.quote.failures')).filter((p) => p.value)
    expect(failures).toHaveLength(1)
    expect(failures[0]?.attributes).toMatchObject({
      'error.type': 'authentication_error',
      'fyers.error_code': '-16',
    })
    expect(sum(await m.points('keyline.fyers.quote.requests'))).toBe(2)
    const failovers = await m.points('keyline.key.failovers')
    expect(failovers.find((p) => p.attributes['keyline.provider'] === 'fyers')?.value).toBe(1)
  })

  it('counts admin reloads by outcome: unchanged when nothing changed since the last one', async () => {
    const admin = `admin-token-${crypto.randomUUID()}`
    const f = await proxyFixture({ ADMIN_TOKEN: admin })
    const reload = (env: Record<string, string>) =>
      f.call(
        '/admin/keys/reload',
        { method: 'POST', headers: { authorization: `Bearer ${admin}` } },
        env
      )
    expect((await reload(f.env)).status).toBe(200)
    expect((await reload(f.env)).status).toBe(200)
    const rotated = { ...f.env, ANTHROPIC_API_KEY: `sk-ant-test-${crypto.randomUUID()}` }
    expect((await reload(rotated)).status).toBe(200)
    const reloads = await m.points('keyline.secrets.reloads')
    const outcome = (o: string) => reloads.find((p) => p.attributes.outcome === o)?.value
    expect([outcome('unchanged'), outcome('success'), outcome('failure')]).toEqual([1, 2, 0])
  })

  it("does not count a client's own bad request in the failure streak", async () => {
    const f = await proxyFixture({}, { retry: { maxRetries: 0 } })
    await f.anthropic.fault(
      { kind: 'status', status: 500 },
      { kind: 'status', status: 404, errorType: 'not_found_error' },
      { kind: 'status', status: 500 }
    )
    for (let i = 0; i < 3; i++) await f.messages(MESSAGE)
    const streak = (await m.points('keyline.upstream.consecutive_failures')).find(
      (p) => p.attributes['keyline.provider'] === 'anthropic'
    )?.value
    expect(streak).toBe(2)
    const failures = (await m.points('keyline.ai.failures')).filter((p) => p.value)
    expect(failures.map((p) => p.attributes['error.type']).sort()).toEqual([
      'api_error',
      'not_found_error',
    ])
  })
})

import { Hono } from 'hono'
import { afterEach, beforeEach, describe, expect, inject, it } from 'vitest'
import { onError, type SecretsVariables, secrets } from '../../src/index.ts'
import { resetTelemetryState } from '../../src/telemetry/instruments.ts'
import { stubControl } from '../stubs/control.ts'
import { stubBindings } from '../stubs/fixtures.ts'
import { installTestMetrics, type TestMetrics } from '../unit/telemetry/collect.ts'
import { FAST_RETRY } from './fixture.ts'

/**
 * A user's own app, written as the README shows it (`app.use(secrets())`, `c.var.anthropic`,
 * `c.var.fyers`, `app.onError(onError)`), against the stub upstreams: the clients get what the
 * proxy routes get — failover to the staged next secret, error mapping and metrics.
 */
let m: TestMetrics
beforeEach(() => {
  resetTelemetryState()
  m = installTestMetrics()
})
afterEach(() => m.shutdown())

const sum = (points: { value: unknown }[]): number =>
  points.reduce((total, p) => total + (typeof p.value === 'number' ? p.value : 0), 0)

const userApp = () => {
  const app = new Hono<{ Variables: SecretsVariables }>()
  app.use(secrets({ retry: FAST_RETRY }))
  app.get('/summary', async (c) => {
    const message = await c.var.anthropic.messages.create({
      model: 'claude-sonnet-5-5',
      max_tokens: 256,
      messages: [{ role: 'user', content: 'Summarise the market' }],
    })
    const quotes = await c.var.fyers.quotes(['NSE:SBIN-EQ'])
    return c.json({ message, quotes })
  })
  app.onError(onError)
  return app
}

const setup = async () => {
  const stubs = inject('stubs')
  const keys = inject('stubKeys')
  const [anthropic, fyers] = await Promise.all([
    stubControl(stubs.anthropic).session(),
    stubControl(stubs.fyers).session(),
  ])
  const env = stubBindings(keys, { anthropic: anthropic.url, fyers: fyers.url }, 'unused')
  return { app: userApp(), env, keys, anthropic, fyers }
}

describe("a user's own app with secrets()", () => {
  it('answers through both clients and records their calls in the metrics', async () => {
    const { app, env } = await setup()
    const response = await app.request('/summary', {}, env)
    expect(response.status).toBe(200)
    const body = (await response.json()) as {
      message: { type: string }
      quotes: { s: string; d: unknown[] }
    }
    expect(body.message.type).toBe('message')
    expect(body.quotes).toMatchObject({ s: 'ok', d: [expect.anything()] })
    expect(sum(await m.points('keyline.ai.requests'))).toBe(1)
    expect(sum(await m.points('keyline.fyers.quote.requests'))).toBe(1)
  })

  it('fails over to the staged next key and token when the current ones are rejected', async () => {
    const { app, env, keys } = await setup()
    const rotated = {
      ...env,
      ANTHROPIC_API_KEY: `sk-ant-revoked-${crypto.randomUUID()}`,
      ANTHROPIC_API_KEY_NEW: keys.anthropic.apiKey,
      FYERS_ACCESS_TOKEN: `revoked-token-${crypto.randomUUID()}`,
      FYERS_ACCESS_TOKEN_NEW: keys.fyers.accessToken,
    }
    const response = await app.request('/summary', {}, rotated)
    expect(response.status).toBe(200)
    const failovers = await m.points('keyline.key.failovers')
    const byProvider = Object.fromEntries(
      failovers.map((p) => [p.attributes['keyline.provider'], p.value])
    )
    expect(byProvider).toMatchObject({ anthropic: 1, fyers: 1 })
  })

  it("maps an unreachable upstream to keyline's 502, counted as a network failure", async () => {
    const { app, env } = await setup()
    const down = { ...env, ANTHROPIC_BASE_URL: 'http://127.0.0.1:9' }
    const response = await app.request('/summary', {}, down)
    expect(response.status).toBe(502)
    const body = (await response.json()) as { error: { type: string } }
    expect(body.error.type).toBe('upstream_unreachable')
    const failures = (await m.points('keyline.ai.failures')).filter((p) => p.value)
    expect(failures.map((p) => p.attributes['error.type'])).toEqual(['network'])
  })

  it('a Fyers token the upstream rejects reaches the client as upstream_auth_failed', async () => {
    const { app, env } = await setup()
    const rejected = { ...env, FYERS_ACCESS_TOKEN: `revoked-token-${crypto.randomUUID()}` }
    const response = await app.request('/summary', {}, rejected)
    expect(response.status).toBe(502)
    const body = (await response.json()) as { error: { type: string } }
    expect(body.error.type).toBe('upstream_auth_failed')
  })
})

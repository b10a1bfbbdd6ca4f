import type { Histogram } from '@opentelemetry/sdk-metrics'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { OTHER } from '../../../src/telemetry/attributes.ts'
import { METRICS } from '../../../src/telemetry/definitions.ts'
import { resetTelemetryState, telemetryState } from '../../../src/telemetry/instruments.ts'
import {
  recordAiCall,
  recordFailover,
  recordFyersQuote,
  recordReload,
  recordTokenRefresh,
  registerKeylineMetrics,
  setRefreshTokenExpiry,
  setRefreshTokenRemaining,
} from '../../../src/telemetry/record.ts'
import { installTestMetrics, type TestMetrics } from './collect.ts'

let t: TestMetrics

beforeEach(() => {
  resetTelemetryState()
  t = installTestMetrics()
})
afterEach(async () => {
  await t.shutdown()
})

const sumOf = async (name: string, match: Record<string, unknown> = {}): Promise<number> =>
  (await t.points(name))
    .filter((p) => Object.entries(match).every(([k, v]) => p.attributes[k] === v))
    .reduce((sum, p) => sum + (p.value as number), 0)

const streak = async (provider: string, operation: string): Promise<number | undefined> =>
  (await t.points(METRICS.consecutiveFailures.name)).find(
    (p) =>
      p.attributes['keyline.provider'] === provider &&
      p.attributes['keyline.operation'] === operation
  )?.value as number | undefined

describe('recordAiCall', () => {
  it('counts a success with bounded attributes, its duration and token usage', async () => {
    recordAiCall({
      operation: 'chat',
      model: 'claude-sonnet-4-5',
      durationS: 1.5,
      outcome: 'success',
      usage: { input: 100, output: 20 },
      client: 'billing-service',
    })
    expect(await t.points(METRICS.aiRequests.name)).toEqual([
      {
        attributes: {
          'gen_ai.provider.name': 'anthropic',
          'gen_ai.operation.name': 'chat',
          'gen_ai.request.model': 'claude-sonnet-4-5',
          'keyline.client.name': 'billing-service',
        },
        value: 1,
      },
    ])
    expect(await sumOf(METRICS.aiFailures.name)).toBe(0)
    const [duration] = await t.points(METRICS.aiOperationDuration.name)
    const histogram = duration?.value as Histogram
    expect(histogram.sum).toBe(1.5)
    expect(histogram.buckets.boundaries).toEqual([...METRICS.aiOperationDuration.buckets])
    const usage = await t.points(METRICS.aiTokenUsage.name)
    expect(
      usage.map((p) => [p.attributes['gen_ai.token.type'], (p.value as Histogram).sum])
    ).toEqual([
      ['input', 100],
      ['output', 20],
    ])
  })

  it('maps unknown models, operations and error types to _OTHER', async () => {
    recordAiCall({
      operation: 'sk-ant-api03-secret',
      model: 'my-private-finetune',
      durationS: 0.2,
      outcome: { errorType: 'whatever the body said' },
      client: 'not a name: sk-ant-api03-secret',
    })
    const [failure] = await t.points(METRICS.aiFailures.name)
    expect(failure?.attributes).toEqual({
      'gen_ai.provider.name': 'anthropic',
      'gen_ai.operation.name': OTHER,
      'gen_ai.request.model': OTHER,
      'error.type': OTHER,
      'keyline.client.name': 'unnamed',
    })
    const [duration] = await t.points(METRICS.aiOperationDuration.name)
    expect(duration?.attributes['error.type']).toBe(OTHER)
  })

  it('keeps the failure streak per operation and resets it on a success', async () => {
    for (let i = 0; i < 4; i++) {
      recordAiCall({ operation: 'chat', durationS: 1, outcome: { errorType: 'overloaded_error' } })
    }
    recordAiCall({ operation: 'models', durationS: 1, outcome: { errorType: 'api_error' } })
    expect(await streak('anthropic', 'chat')).toBe(4)
    expect(await streak('anthropic', 'models')).toBe(1)
    expect(await sumOf(METRICS.aiFailures.name, { 'error.type': 'overloaded_error' })).toBe(4)
    recordAiCall({ operation: 'chat', durationS: 1, outcome: 'success' })
    expect(await streak('anthropic', 'chat')).toBe(0)
    expect(await streak('anthropic', 'models')).toBe(1)
  })

  it('ignores durations and token counts that are not measurements', async () => {
    recordAiCall({
      operation: 'chat',
      durationS: Number.NaN,
      outcome: 'success',
      usage: { input: -1, output: Number.POSITIVE_INFINITY },
    })
    expect(await sumOf(METRICS.aiRequests.name)).toBe(1)
    expect(await t.points(METRICS.aiOperationDuration.name)).toEqual([])
    expect(await t.points(METRICS.aiTokenUsage.name)).toEqual([])
  })
})

describe('recordFyersQuote', () => {
  it('counts failures by error.type and a bounded Fyers code', async () => {
    recordFyersQuote({ durationS: 0.1, httpStatus: 200, outcome: 'success' })
    recordFyersQuote({
      durationS: 0.2,
      httpStatus: 401,
      outcome: { errorType: 'authentication_error', fyersCode: -16 },
    })
    recordFyersQuote({
      durationS: 0.3,
      httpStatus: 400,
      outcome: { errorType: 'invalid_request_error', fyersCode: -123456 },
    })
    expect(await sumOf(METRICS.fyersQuoteRequests.name)).toBe(3)
    expect(
      await sumOf(METRICS.fyersQuoteFailures.name, {
        'error.type': 'authentication_error',
        'fyers.error_code': '-16',
      })
    ).toBe(1)
    expect(await sumOf(METRICS.fyersQuoteFailures.name, { 'fyers.error_code': OTHER })).toBe(1)
    // the client's own invalid request is counted, but does not extend the streak
    expect(await streak('fyers', 'quotes')).toBe(1)
    const http = await t.points(METRICS.fyersHttpDuration.name)
    expect(http.map((p) => p.attributes)).toContainEqual({
      'http.request.method': 'GET',
      'server.address': 'api-t1.fyers.in',
      'http.response.status_code': 401,
      'error.type': 'authentication_error',
    })
  })

  it('maps an unknown host to _OTHER', async () => {
    recordFyersQuote({ durationS: 0.1, serverAddress: 'evil.example', outcome: 'success' })
    const [point] = await t.points(METRICS.fyersHttpDuration.name)
    expect(point?.attributes['server.address']).toBe(OTHER)
  })
})

describe('failovers, reloads, refreshes', () => {
  it('starts the alerting series at 0 so the first event is an increase', async () => {
    registerKeylineMetrics()
    expect(await t.points(METRICS.keyFailovers.name)).toEqual([
      { attributes: { 'keyline.provider': 'anthropic' }, value: 0 },
      { attributes: { 'keyline.provider': 'fyers' }, value: 0 },
    ])
    expect(await sumOf(METRICS.fyersTokenRefreshes.name, { outcome: 'failure' })).toBe(0)
    expect(
      await sumOf(METRICS.fyersQuoteFailures.name, { 'error.type': 'authentication_error' })
    ).toBe(0)
  })

  it('counts them with bounded attributes', async () => {
    recordFailover('anthropic')
    recordFailover('someone-else')
    recordReload('success')
    recordReload('failure')
    recordTokenRefresh('failure')
    expect(await sumOf(METRICS.keyFailovers.name, { 'keyline.provider': 'anthropic' })).toBe(1)
    expect(await sumOf(METRICS.keyFailovers.name, { 'keyline.provider': OTHER })).toBe(1)
    expect(await sumOf(METRICS.secretsReloads.name, { outcome: 'failure' })).toBe(1)
    expect(await sumOf(METRICS.fyersTokenRefreshes.name, { outcome: 'failure' })).toBe(1)
  })

  it('counts the refresh token down from the time it was set', async () => {
    let now = 1_000_000
    telemetryState.now = () => now
    expect(await t.points(METRICS.fyersRefreshTokenRemaining.name)).toEqual([])
    setRefreshTokenRemaining(172_800)
    expect(await sumOf(METRICS.fyersRefreshTokenRemaining.name)).toBe(172_800)
    now += 3_600_000
    expect(await sumOf(METRICS.fyersRefreshTokenRemaining.name)).toBe(169_200)
    setRefreshTokenExpiry(new Date(now - 1))
    expect(await sumOf(METRICS.fyersRefreshTokenRemaining.name)).toBe(0)
  })
})

describe('lazy instruments', () => {
  it('follow the global MeterProvider installed after the first recording', async () => {
    await t.shutdown()
    recordFailover('fyers') // no SDK yet: goes to the no-op meter
    t = installTestMetrics()
    recordFailover('fyers')
    expect(await sumOf(METRICS.keyFailovers.name, { 'keyline.provider': 'fyers' })).toBe(1)
    expect(await t.names()).toEqual(
      expect.arrayContaining([METRICS.keyFailovers.name, METRICS.fyersTokenRefreshes.name])
    )
  })
})

import { isDeepStrictEqual } from 'node:util'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { startAnthropicStub } from '../stubs/anthropic.ts'
import { type StubControl, stubControl } from '../stubs/control.ts'
import { generateStubKeys, stubBindings, stubOptionsFor } from '../stubs/fixtures.ts'
import { startFyersStub } from '../stubs/fyers.ts'
import type { StartedStub } from '../stubs/stub-server.ts'
import type { StubKeys } from '../stubs/types.ts'
import {
  type OtlpReceiver,
  type ReceivedExport,
  startOtlpReceiver,
} from '../support/otlp-receiver.ts'
import { describeRuntimes, type RuntimeContext } from './harness/describe-runtimes.ts'
import type { RuntimeName } from './harness/runtimes.ts'

/**
 * The same failures produce the same metric series on every runtime.
 *
 * Each runtime's real server (Node entry, `wrangler dev`, Deno entry) gets its own sessions on
 * stub Anthropic and Fyers upstreams and exports OTLP/HTTP JSON to one receiver started here,
 * told apart by `service.name`. The same sequence of successes and failures is driven against
 * each; what arrives is normalised into series (metric name + sorted point attributes → counter
 * value, gauge value or histogram count) and must equal {@link EXPECTED} on every runtime, and
 * the runtimes must equal each other.
 *
 * Left out of a series: the resource (it names the runtime on purpose: `service.name`,
 * `process.runtime.name`, `service.instance.id`, `telemetry.sdk.*`), timestamps, histogram sums
 * and buckets (durations differ from run to run). Kept: every point attribute, `server.address`
 * included: it goes through an allow-list of Fyers hosts, so the stub's `127.0.0.1` is `_OTHER`
 * on every runtime, and a runtime that leaked the raw host would be a bug this test must catch.
 */

/** A client token for `KEYLINE_CLIENT_TOKENS`, generated per run. */
const CLIENT_TOKEN = `kl-test-${crypto.randomUUID()}`
/** A model id on the allow-list of `gen_ai.request.model`, so it is not folded into `_OTHER`. */
const MODEL = 'claude-sonnet-4-5'
const RUN_ID = crypto.randomUUID()
const EXPORT_INTERVAL_MS = 500

const serviceName = (runtime: RuntimeName): string => `keyline-contract-${runtime}`

let receiver: OtlpReceiver
let anthropicStub: StartedStub
let fyersStub: StartedStub
let keys: StubKeys
const sessions = new Map<RuntimeName, { anthropic: StubControl; fyers: StubControl }>()
/** The series each runtime exported, filled by its suite, compared by the last one. */
const exported = new Map<RuntimeName, Series>()

beforeAll(async () => {
  keys = generateStubKeys()
  const options = stubOptionsFor(keys)
  ;[receiver, anthropicStub, fyersStub] = await Promise.all([
    startOtlpReceiver(),
    startAnthropicStub(options.anthropic),
    startFyersStub(options.fyers),
  ])
})
afterAll(async () => {
  await Promise.all([anthropicStub?.close(), fyersStub?.close(), receiver?.close()])
})

// ---------------------------------------------------------------------------------------------
// Series

/** `name{k="v",…}` → value: counters and gauges their value, histograms their count. */
type Series = Record<string, number>

const seriesKey = (name: string, attributes: Record<string, unknown>): string => {
  const pairs = Object.keys(attributes)
    .sort()
    .map((key) => `${key}=${JSON.stringify(attributes[key])}`)
  return `${name}{${pairs.join(',')}}`
}

/**
 * Normalises the exports of one runtime into {@link Series}. Temporality is cumulative on every
 * runtime, so the latest point of a series per `service.instance.id` holds its total; totals of
 * different instances (isolates) are added up, gauges take the largest. Delta temporality would
 * be a difference between runtimes in itself, and is rejected.
 */
const toSeries = (exports: readonly ReceivedExport[]): Series => {
  const latest = new Map<string, { key: string; value: number; gauge: boolean }>()
  for (const e of exports) {
    const instance = String(e.resource['service.instance.id'])
    for (const metric of e.metrics) {
      if (metric.temporality === 1) {
        throw new Error(`${metric.name} was exported with delta temporality`)
      }
      for (const point of metric.points) {
        const key = seriesKey(metric.name, point.attributes)
        const value = metric.type === 'histogram' ? point.count : point.value
        latest.set(`${instance} ${key}`, {
          key,
          value: value ?? Number.NaN,
          gauge: metric.type === 'gauge',
        })
      }
    }
  }
  const series: Series = {}
  for (const { key, value, gauge } of latest.values()) {
    series[key] = gauge ? Math.max(series[key] ?? value, value) : (series[key] ?? 0) + value
  }
  return Object.fromEntries(Object.entries(series).sort(([a], [b]) => a.localeCompare(b)))
}

const s = (name: string, attributes: Record<string, unknown>, value: number): [string, number] => [
  seriesKey(name, attributes),
  value,
]

/** The name of the client token the sequence calls with. */
const client = { 'keyline.client.name': 'contract' }
const chat = {
  'gen_ai.provider.name': 'anthropic',
  'gen_ai.operation.name': 'chat',
  'gen_ai.request.model': MODEL,
}
const fyersHttp = { 'http.request.method': 'GET', 'server.address': '_OTHER' }
const quotes = { 'keyline.operation': 'quotes' }

/**
 * What {@link driveSequence} must leave behind, written out so that a series vanishing on every
 * runtime at once still fails. Zero-valued series are those keyline starts at 0 on purpose
 * (`initialiseSeries` in src/telemetry/instruments.ts), so alerts see their first increase.
 */
const EXPECTED: Series = Object.fromEntries(
  [
    // Anthropic: 2 successes (plain, streamed), 529 (after retries), 400, network (after retries).
    s('keyline.ai.requests', { ...chat, ...client }, 5),
    s('keyline.ai.failures', { ...chat, ...client, 'error.type': 'overloaded_error' }, 1),
    s('keyline.ai.failures', { ...chat, ...client, 'error.type': 'invalid_request_error' }, 1),
    s('keyline.ai.failures', { ...chat, ...client, 'error.type': 'network' }, 1),
    s('gen_ai.client.operation.duration', chat, 2),
    s('gen_ai.client.operation.duration', { ...chat, 'error.type': 'overloaded_error' }, 1),
    s('gen_ai.client.operation.duration', { ...chat, 'error.type': 'invalid_request_error' }, 1),
    s('gen_ai.client.operation.duration', { ...chat, 'error.type': 'network' }, 1),
    s('gen_ai.client.token.usage', { ...chat, 'gen_ai.token.type': 'input' }, 2),
    s('gen_ai.client.token.usage', { ...chat, 'gen_ai.token.type': 'output' }, 2),
    // Fyers: 1 success, HTTP 401 code -16, HTTP 200 code -353.
    s('keyline.fyers.quote.requests', quotes, 3),
    s('keyline.fyers.quote.failures', { ...quotes, 'error.type': 'authentication_error' }, 0),
    s(
      'keyline.fyers.quote.failures',
      { ...quotes, 'error.type': 'authentication_error', 'fyers.error_code': '-8' },
      0
    ),
    s(
      'keyline.fyers.quote.failures',
      { ...quotes, 'error.type': 'authentication_error', 'fyers.error_code': '-15' },
      0
    ),
    s(
      'keyline.fyers.quote.failures',
      { ...quotes, 'error.type': 'authentication_error', 'fyers.error_code': '-16' },
      1
    ),
    s(
      'keyline.fyers.quote.failures',
      { ...quotes, 'error.type': 'authentication_error', 'fyers.error_code': '-17' },
      0
    ),
    s(
      'keyline.fyers.quote.failures',
      { ...quotes, 'error.type': 'rate_limit_error', 'fyers.error_code': '-353' },
      1
    ),
    s('http.client.request.duration', { ...fyersHttp, 'http.response.status_code': 200 }, 1),
    s(
      'http.client.request.duration',
      { ...fyersHttp, 'http.response.status_code': 401, 'error.type': 'authentication_error' },
      1
    ),
    s(
      'http.client.request.duration',
      { ...fyersHttp, 'http.response.status_code': 200, 'error.type': 'rate_limit_error' },
      1
    ),
    // Streaks: Anthropic ended on 2 upstream failures in a row (the client's own 400 between
    // them neither extends nor ends the streak), Fyers on 2.
    s(
      'keyline.upstream.consecutive_failures',
      { 'keyline.provider': 'anthropic', 'keyline.operation': 'chat' },
      2
    ),
    s(
      'keyline.upstream.consecutive_failures',
      { 'keyline.provider': 'fyers', 'keyline.operation': 'quotes' },
      2
    ),
    // Started at 0, untouched by the sequence.
    s('keyline.key.failovers', { 'keyline.provider': 'anthropic' }, 0),
    s('keyline.key.failovers', { 'keyline.provider': 'fyers' }, 0),
    s('keyline.secrets.reloads', { outcome: 'success' }, 0),
    s('keyline.secrets.reloads', { outcome: 'unchanged' }, 0),
    s('keyline.secrets.reloads', { outcome: 'failure' }, 0),
    ...['aws-sm', 'aws-ssm', 'secrets-store'].flatMap((store) =>
      ['success', 'stale', 'failure'].map((outcome) =>
        s('keyline.secrets.store.fetches', { 'keyline.store': store, outcome }, 0)
      )
    ),
    s('keyline.fyers.token.refreshes', { outcome: 'success' }, 0),
    s('keyline.fyers.token.refreshes', { outcome: 'failure' }, 0),
    // No client has limits here: the counter store was never asked, so never unavailable.
    s('keyline.client.limits.unavailable', {}, 0),
  ].sort(([a], [b]) => String(a).localeCompare(String(b)))
)

// ---------------------------------------------------------------------------------------------
// Traffic

const authorized = (ctx: RuntimeContext, path: string, init: RequestInit = {}) =>
  ctx.fetch(path, {
    ...init,
    headers: { authorization: `Bearer ${CLIENT_TOKEN}`, ...init.headers },
  })

const messages = (ctx: RuntimeContext, body: Record<string, unknown>, token = true) =>
  ctx.fetch('/v1/messages', {
    method: 'POST',
    headers: {
      'content-type': 'application/json',
      ...(token ? { authorization: `Bearer ${CLIENT_TOKEN}` } : {}),
    },
    body: JSON.stringify(body),
  })

const MESSAGE = { model: MODEL, max_tokens: 16, messages: [{ role: 'user', content: 'hello' }] }
const QUOTES = '/v1/quotes?symbols=NSE:SBIN-EQ'

/** Reads a response to its end and returns its status (a stream is recorded when it ends). */
const finish = async (response: Response): Promise<number> => {
  await response.text()
  return response.status
}

// ---------------------------------------------------------------------------------------------
// Suites

describeRuntimes(
  'metric series',
  (ctx) => {
    const upstream = () => {
      const found = sessions.get(ctx.runtime)
      if (!found) throw new Error(`no stub sessions for ${ctx.runtime}`)
      return found
    }

    it('Anthropic: success, stream, 529 after retries, 400, network failure after retries', async () => {
      const { anthropic } = upstream()
      expect(await finish(await messages(ctx, MESSAGE))).toBe(200)
      const streamed = await messages(ctx, { ...MESSAGE, stream: true })
      expect(streamed.headers.get('content-type')).toMatch(/^text\/event-stream/)
      expect(await streamed.text()).toContain('message_stop')

      await anthropic.mode({ kind: 'status', status: 529 })
      expect(await finish(await messages(ctx, MESSAGE))).toBe(529)
      await anthropic.mode(null)
      expect((await anthropic.requests()).filter((r) => r.status === 529)).toHaveLength(3)

      await anthropic.fault({ kind: 'status', status: 400 })
      const invalid = await messages(ctx, MESSAGE)
      expect(invalid.status).toBe(400)
      expect(((await invalid.json()) as { error: { type: string } }).error.type).toBe(
        'invalid_request_error'
      )

      await anthropic.mode({ kind: 'reset' })
      expect(await finish(await messages(ctx, MESSAGE))).toBe(502)
      await anthropic.mode(null)
      const resets = (await anthropic.requests()).filter((r) => r.fault?.kind === 'reset')
      // keyline makes 3 attempts (2 retries). Deno's fetch replays, once and at once, a request
      // whose pooled keep-alive connection was reset before an answer (denoland/deno#32566,
      // #36415): the first attempt reuses the connection of the 400 above, so the stub sees 4.
      // The metrics count keyline's client calls, so the series stay the same.
      if (ctx.runtime === 'deno') expect(resets.length).toBeOneOf([3, 4])
      else expect(resets).toHaveLength(3)

      // Refused by keyline itself: no upstream call, so no series may move.
      const before = (await anthropic.requests()).length
      expect(await finish(await messages(ctx, { model: MODEL, max_tokens: 16 }))).toBe(400)
      expect(await finish(await messages(ctx, MESSAGE, false))).toBe(401)
      expect(await anthropic.requests()).toHaveLength(before)
    })

    it('Fyers: quotes success, 401 code -16, code -353 rate limit', async () => {
      const { fyers } = upstream()
      expect(await finish(await authorized(ctx, QUOTES))).toBe(200)

      await fyers.mode({ kind: 'status', status: 401, code: -16 })
      expect(await finish(await authorized(ctx, QUOTES))).toBe(502)
      await fyers.mode({ kind: 'status', status: 200, code: -353 })
      expect(await finish(await authorized(ctx, QUOTES))).toBe(429)
      await fyers.mode(null)
      expect(await fyers.requests()).toHaveLength(3)
    })

    it('exports exactly the expected series, and they stay put', async () => {
      // Node and Deno export on their own every interval; workerd only after a response once
      // the interval has passed (`otelFlush` runs before `/healthz`), so keep answering one.
      const nextExport = async (): Promise<Series> => {
        await new Promise((resolve) => setTimeout(resolve, EXPORT_INTERVAL_MS + 100))
        expect(await finish(await ctx.fetch('/healthz'))).toBe(200)
        return toSeries(receiver.received(serviceName(ctx.runtime)))
      }
      const deadline = Date.now() + 20_000
      let series = await nextExport()
      while (!isDeepStrictEqual(series, EXPECTED) && Date.now() < deadline) {
        series = await nextExport()
      }
      exported.set(ctx.runtime, series)
      expect(series).toEqual(EXPECTED)
      // Two more intervals: nothing recorded late (a stream's end, a retry) moves a series.
      await nextExport()
      expect(await nextExport()).toEqual(EXPECTED)
      const instances = new Set(
        receiver.received(serviceName(ctx.runtime)).map((e) => e.resource['service.instance.id'])
      )
      expect(instances.size, 'service.instance.id values (processes or isolates)').toBe(1)
    })
  },
  {
    bindings: async ({ runtime }) => {
      const [anthropic, fyers] = await Promise.all([
        stubControl(anthropicStub.url).session(),
        stubControl(fyersStub.url).session(),
      ])
      sessions.set(runtime, { anthropic, fyers })
      return {
        // A named token: its name is the bounded `keyline.client.name` of the AI request series.
        ...stubBindings(
          keys,
          { anthropic: anthropic.url, fyers: fyers.url },
          `contract=${CLIENT_TOKEN}`
        ),
        OTEL_SERVICE_NAME: serviceName(runtime),
        OTEL_RESOURCE_ATTRIBUTES: `keyline.test.runtime=${runtime},keyline.test.run=${RUN_ID}`,
        OTEL_EXPORTER_OTLP_ENDPOINT: receiver.url,
        OTEL_METRIC_EXPORT_INTERVAL: String(EXPORT_INTERVAL_MS),
        LOG_LEVEL: 'warn',
      }
    },
  }
)

describe('metric series across runtimes', () => {
  it('are the same on every runtime', () => {
    const runtimes = [...exported.keys()]
    expect(runtimes.length, 'runtimes whose series arrived').toBeGreaterThan(0)
    for (const runtime of runtimes) {
      expect({ runtime, series: exported.get(runtime) }).toEqual({
        runtime,
        series: exported.get(runtimes[0] as RuntimeName),
      })
    }
  })

  it('every runtime exported with its own resource', () => {
    for (const runtime of exported.keys()) {
      const [first] = receiver.received(serviceName(runtime))
      expect(first?.resource).toMatchObject({
        'service.name': serviceName(runtime),
        'keyline.test.runtime': runtime,
        'keyline.test.run': RUN_ID,
      })
    }
  })
})

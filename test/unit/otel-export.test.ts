import { metrics } from '@opentelemetry/api'
import type { ExecutionContext } from 'hono'
import { Hono } from 'hono'
import { getRuntimeKey } from 'hono/adapter'
import { describe, expect, inject, it, vi } from 'vitest'
import { otelFlush } from '../../src/telemetry/export/otel-flush.ts'
import {
  createWebExporter,
  type FlushResult,
  flushTelemetry,
  type WebExporterOptions,
} from '../../src/telemetry/export/web-exporter.ts'
import { ensureWebMeterProvider } from '../../src/telemetry/export/web-provider.ts'
import type { ReceivedExport } from '../support/otlp-decode.ts'

// Web APIs only: runs in the `node` and the `workerd` projects. The receiver runs in Node
// (test/setup/stubs.ts); what it decoded is read back over HTTP.
const receiver = inject('otlpReceiver')
const closed = inject('otlpClosed')

/** Collects `waitUntil` promises like the Workers runtime's execution context. */
class FakeExecutionContext implements ExecutionContext {
  readonly promises: Promise<unknown>[] = []
  props = {}
  waitUntil(promise: Promise<unknown>): void {
    this.promises.push(promise)
  }
  passThroughOnException(): void {}
}

const received = async (service: string): Promise<ReceivedExport[]> => {
  const res = await fetch(`${receiver}/__received?service=${encodeURIComponent(service)}`)
  return (await res.json()) as ReceivedExport[]
}

/** A unique service name per test, so tests sharing the receiver never see each other's data. */
const uniqueService = (): string => `keyline-test-${crypto.randomUUID()}`

const appWith = (options: WebExporterOptions = {}) => {
  const exporter = createWebExporter({ intervalMs: 60_000, onResult: () => {}, ...options })
  const app = new Hono()
  app.use(otelFlush({ exporter }))
  app.get('/', (c) => {
    // Resolved per request, as the recording code should: the provider is installed by then.
    metrics.getMeter('keyline').createCounter('keyline.test.requests').add(1, { route: '/' })
    return c.text('ok')
  })
  return { app, exporter }
}

const envFor = (service: string, endpoint: string): Record<string, string> => ({
  OTEL_SERVICE_NAME: service,
  OTEL_RESOURCE_ATTRIBUTES: 'deployment.environment.name=test,team=edge%20ops',
  OTEL_EXPORTER_OTLP_ENDPOINT: endpoint,
  OTEL_EXPORTER_OTLP_HEADERS: 'x-api-key=s3cr%3Dt,x-tenant=keyline',
})

// The Workers export runs only in workerd; elsewhere otelFlush() is a bare pass-through.
describe.runIf(getRuntimeKey() === 'workerd')('otelFlush (Workers export)', () => {
  it('exports what a request recorded, in waitUntil, with the resource and headers', async () => {
    const service = uniqueService()
    const { app } = appWith()
    const ctx = new FakeExecutionContext()
    const res = await app.request('/', {}, envFor(service, receiver), ctx)
    expect(res.status).toBe(200)
    expect(ctx.promises).toHaveLength(1)
    const [result] = (await Promise.all(ctx.promises)) as FlushResult[]
    expect(result).toMatchObject({ status: 'sent', httpStatus: 200 })

    const exports = await received(service)
    expect(exports).toHaveLength(1)
    const [exported] = exports
    expect(exported?.headers['x-api-key']).toBe('s3cr=t')
    expect(exported?.headers['x-tenant']).toBe('keyline')
    expect(exported?.headers['content-type']).toMatch(/^application\/json/)
    expect(exported?.resource).toMatchObject({
      'service.name': service,
      'deployment.environment.name': 'test',
      team: 'edge ops',
      'telemetry.sdk.name': 'keyline',
      'process.runtime.name': 'workerd',
    })
    expect(exported?.resource['service.instance.id']).toMatch(/^[0-9a-f-]{36}$/)
    const metric = exported?.metrics.find((m) => m.name === 'keyline.test.requests')
    expect(metric).toMatchObject({ type: 'sum', monotonic: true, temporality: 2, scope: 'keyline' })
    expect(metric?.points.reduce((n, p) => n + (p.value ?? 0), 0)).toBeGreaterThanOrEqual(1)
    const point = metric?.points.find((p) => p.attributes.route === '/')
    expect(point).toBeDefined()
    // Wall-clock timestamps, also in workerd (whose performance.timeOrigin is 0).
    const pointMs = Number(BigInt(point?.timeUnixNano ?? '0') / 1_000_000n)
    expect(Math.abs(pointMs - Date.now())).toBeLessThan(3_600_000)
  })

  it('exports at most once per interval per isolate', async () => {
    const service = uniqueService()
    const { app } = appWith({ intervalMs: 60_000 })
    const env = envFor(service, receiver)
    const first = new FakeExecutionContext()
    const second = new FakeExecutionContext()
    await app.request('/', {}, env, first)
    await Promise.all(first.promises)
    await app.request('/', {}, env, second)
    expect(first.promises).toHaveLength(1)
    expect(second.promises).toHaveLength(0)
    expect(await received(service)).toHaveLength(1)
  })

  it('exports again once the interval has passed', async () => {
    const service = uniqueService()
    const { app } = appWith({ intervalMs: 1 })
    const env = envFor(service, receiver)
    for (let i = 0; i < 2; i++) {
      const ctx = new FakeExecutionContext()
      await app.request('/', {}, env, ctx)
      await Promise.all(ctx.promises)
      await new Promise((resolve) => setTimeout(resolve, 5))
    }
    expect(await received(service)).toHaveLength(2)
  })

  it('answers normally when the collector is down, and the flush resolves as failed', async () => {
    const { app } = appWith({ timeoutMs: 2_000 })
    const ctx = new FakeExecutionContext()
    const res = await app.request('/', {}, envFor(uniqueService(), closed), ctx)
    expect(res.status).toBe(200)
    expect(await res.text()).toBe('ok')
    const results = (await Promise.all(ctx.promises)) as FlushResult[]
    expect(results).toEqual([expect.objectContaining({ status: 'failed' })])
  })

  it('does not wait for a hanging collector, whose export times out on its own', async () => {
    const { app, exporter } = appWith({ timeoutMs: 300 })
    const env = envFor(uniqueService(), `${receiver}/hang`)
    const ctx = new FakeExecutionContext()
    let flushed = false
    const res = await app.request('/', {}, env, ctx)
    for (const p of ctx.promises) p.then(() => (flushed = true))
    expect(res.status).toBe(200)
    expect(flushed).toBe(false)
    // While that export hangs, other requests schedule nothing: nothing queues up.
    const meanwhile = new FakeExecutionContext()
    await app.request('/', {}, env, meanwhile)
    expect(meanwhile.promises).toHaveLength(0)
    expect(await exporter.flush(env)).toEqual({ status: 'skipped', reason: 'in-flight' })
    const [result] = (await Promise.all(ctx.promises)) as FlushResult[]
    expect(result?.status).toBe('failed')
  })

  it('does nothing without an execution context (Node, Deno)', async () => {
    const { app } = appWith()
    const res = await app.request('/', {}, envFor(uniqueService(), receiver))
    expect(res.status).toBe(200)
  })

  it('schedules nothing when no OTLP exporter is configured', async () => {
    const { app } = appWith()
    const ctx = new FakeExecutionContext()
    const res = await app.request('/', {}, { OTEL_SERVICE_NAME: uniqueService() }, ctx)
    expect(res.status).toBe(200)
    expect(ctx.promises).toHaveLength(0)
  })
})

describe.runIf(getRuntimeKey() !== 'workerd')('otelFlush outside Workers', () => {
  it('passes through, even when an execution context is given', async () => {
    const service = uniqueService()
    const { app } = appWith()
    const ctx = new FakeExecutionContext()
    const res = await app.request('/', {}, envFor(service, receiver), ctx)
    expect(res.status).toBe(200)
    expect(ctx.promises).toHaveLength(0)
  })
})

describe('flushTelemetry (scheduled handler)', () => {
  it('exports unthrottled, the cumulative totals each time', async () => {
    const service = uniqueService()
    const exporter = createWebExporter({ intervalMs: 60_000, onResult: () => {} })
    const env = envFor(service, receiver)
    ensureWebMeterProvider() // as the Worker's first event does, before anything records
    const counter = metrics.getMeter('keyline').createCounter('keyline.test.scheduled')
    expect(await flushTelemetry(env, exporter)).toMatchObject({ status: 'sent' })
    counter.add(2)
    expect(await flushTelemetry(env, exporter)).toMatchObject({ status: 'sent' })
    counter.add(3)
    expect(await flushTelemetry(env, exporter)).toMatchObject({ status: 'sent' })
    const exports = await received(service)
    expect(exports).toHaveLength(3)
    const totals = exports.map(
      (e) => e.metrics.find((m) => m.name === 'keyline.test.scheduled')?.points[0]?.value
    )
    expect(totals.slice(1)).toEqual([2, 5])
  })
})

describe('createWebExporter', () => {
  it('forgets an export whose request context died, instead of never exporting again', async () => {
    // A fetch that never settles, not even on abort: what a torn-down Workers context leaves.
    const calls: string[] = []
    const exporter = createWebExporter({
      timeoutMs: 100,
      onResult: () => {},
      fetch: (input) => {
        calls.push(String(input))
        return new Promise<Response>(() => {})
      },
    })
    const env = envFor(uniqueService(), receiver)
    const now = vi.spyOn(Date, 'now')
    try {
      const start = Date.now()
      now.mockReturnValue(start)
      void exporter.flush(env)
      await vi.waitFor(() => expect(calls).toHaveLength(1))
      now.mockReturnValue(start + 1_000)
      expect(await exporter.flush(env)).toEqual({ status: 'skipped', reason: 'in-flight' })
      now.mockReturnValue(start + 10_000)
      void exporter.flush(env)
      await vi.waitFor(() => expect(calls).toHaveLength(2))
    } finally {
      now.mockRestore()
    }
  })
})

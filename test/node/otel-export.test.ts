import { createServer } from 'node:http'
import type { AddressInfo } from 'node:net'
import { metrics } from '@opentelemetry/api'
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest'
import { type NodeTelemetry, startNodeTelemetry } from '../../src/telemetry/export/node.ts'
import { type OtlpReceiver, pointsOf, startOtlpReceiver } from '../support/otlp-receiver.ts'

let receiver: OtlpReceiver
let telemetry: NodeTelemetry | undefined

beforeAll(async () => {
  receiver = await startOtlpReceiver()
})
afterEach(async () => {
  await telemetry?.shutdown()
  telemetry = undefined
  metrics.disable()
})
afterAll(async () => {
  await receiver.close()
})

const uniqueService = (): string => `keyline-node-${crypto.randomUUID()}`

describe('startNodeTelemetry', () => {
  it('exports OTLP/HTTP periodically with the resource and headers, and serves Prometheus', async () => {
    const service = uniqueService()
    telemetry = await startNodeTelemetry({
      OTEL_SERVICE_NAME: service,
      OTEL_RESOURCE_ATTRIBUTES: 'deployment.environment.name=test,team=edge%20ops',
      OTEL_METRICS_EXPORTER: 'otlp, prometheus',
      OTEL_EXPORTER_OTLP_ENDPOINT: `${receiver.url}/`,
      OTEL_EXPORTER_OTLP_HEADERS: 'x-api-key=s3cr%3Dt,x-tenant=keyline',
      OTEL_EXPORTER_PROMETHEUS_PORT: '0',
      OTEL_METRIC_EXPORT_INTERVAL: '100',
    })
    expect(telemetry.exporters).toEqual(['otlp', 'prometheus'])
    expect(telemetry.prometheusUrl).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/metrics$/)

    metrics
      .getMeter('keyline')
      .createCounter('keyline.test.node_requests', { description: 'test counter' })
      .add(3, { route: '/v1/messages' })

    const points = await vi.waitFor(
      () => {
        const found = pointsOf(receiver.received(service), 'keyline.test.node_requests')
        expect(found.at(-1)?.value).toBe(3)
        return found
      },
      { timeout: 5_000, interval: 50 }
    )
    const last = points.at(-1)
    expect(last?.attributes).toEqual({ route: '/v1/messages' })
    expect(last?.metric).toMatchObject({ type: 'sum', monotonic: true, temporality: 2 })
    expect(last?.resource).toMatchObject({
      'service.name': service,
      'deployment.environment.name': 'test',
      team: 'edge ops',
      'telemetry.sdk.language': 'nodejs',
      'process.runtime.name': 'nodejs',
    })
    expect(last?.resource['service.instance.id']).toMatch(/^[0-9a-f-]{36}$/)
    const exported = receiver.received(service).at(-1)
    expect(exported?.headers['x-api-key']).toBe('s3cr=t')
    expect(exported?.headers['x-tenant']).toBe('keyline')

    const scrape = await fetch(telemetry.prometheusUrl ?? '')
    expect(scrape.status).toBe(200)
    const text = await scrape.text()
    expect(text).toMatch(
      /^keyline_test_node_requests_total\{[^}]*route="\/v1\/messages"[^}]*\} 3$/m
    )
    expect(text).toContain(`service_name="${service}"`)
    expect((await fetch(telemetry.prometheusUrl?.replace('/metrics', '/other') ?? '')).status).toBe(
      404
    )
  })

  it('flushes on shutdown', async () => {
    const service = uniqueService()
    telemetry = await startNodeTelemetry({
      OTEL_SERVICE_NAME: service,
      OTEL_EXPORTER_OTLP_METRICS_ENDPOINT: `${receiver.url}/v1/metrics`,
      OTEL_METRIC_EXPORT_INTERVAL: '60000',
    })
    expect(telemetry.exporters).toEqual(['otlp'])
    metrics.getMeter('keyline').createCounter('keyline.test.node_shutdown').add(7)
    expect(receiver.received(service)).toHaveLength(0)
    await telemetry.shutdown()
    expect(pointsOf(receiver.received(service), 'keyline.test.node_shutdown')[0]?.value).toBe(7)
    await telemetry.shutdown() // idempotent
  })

  it('installs nothing when no exporter is configured', async () => {
    telemetry = await startNodeTelemetry({ OTEL_METRICS_EXPORTER: 'none' })
    expect(telemetry.exporters).toEqual([])
    expect(telemetry.prometheusUrl).toBeUndefined()
    expect(metrics.getMeterProvider().constructor.name).not.toBe('MeterProvider')
  })

  it('keeps going when the scrape port is taken', async () => {
    const blocker = createServer()
    await new Promise<void>((resolve) => blocker.listen(0, '127.0.0.1', () => resolve()))
    const { port } = blocker.address() as AddressInfo
    const warn = vi.spyOn(console, 'warn').mockImplementation(() => {})
    try {
      telemetry = await startNodeTelemetry({
        OTEL_METRICS_EXPORTER: 'prometheus',
        OTEL_EXPORTER_PROMETHEUS_PORT: String(port),
      })
      expect(telemetry.prometheusUrl).toBeUndefined()
      expect(telemetry.exporters).toEqual([])
      expect(warn).toHaveBeenCalledWith(expect.stringContaining('prometheus scrape endpoint'))
    } finally {
      warn.mockRestore()
      await new Promise<void>((resolve) => blocker.close(() => resolve()))
    }
  })
})

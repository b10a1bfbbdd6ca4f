import type { Attributes, Meter, MeterProvider } from '@opentelemetry/api'
import {
  type Histogram,
  MetricReader,
  MeterProvider as SdkMeterProvider,
} from '@opentelemetry/sdk-metrics'
import { describe, expect, it } from 'vitest'
import { WebMeterProvider } from '../../../src/telemetry/export/web-meter.ts'
import { decodeExportRequest } from '../../support/otlp-decode.ts'

// keyline's small metrics SDK (Workers, Deno) against @opentelemetry/sdk-metrics (Node): the
// same recordings must give the same series. Web APIs only: runs in node and workerd.

class TestReader extends MetricReader {
  protected override async onShutdown(): Promise<void> {}
  protected override async onForceFlush(): Promise<void> {}
}

interface Series {
  name: string
  type: string
  monotonic?: boolean
  points: Record<string, unknown>
}

const key = (attributes: Attributes): string =>
  JSON.stringify(Object.entries(attributes).sort(([a], [b]) => (a < b ? -1 : 1)))

/** Records the same things on any provider; `round` 2 adds to round 1. */
const drive = (provider: MeterProvider, round: number, gauge: { value: number }): void => {
  const meter: Meter = provider.getMeter('keyline')
  const requests = meter.createCounter('keyline.t.requests', { unit: '{request}' })
  requests.add(1, { route: '/', method: 'GET' })
  requests.add(2, { method: 'GET', route: '/' }) // same series, attributes in another order
  requests.add(-5, { route: '/' }) // dropped: counters never decrease
  requests.add(round, { route: '/x', ok: true, code: 7, ratio: 0.5 })
  meter.createCounter('keyline.t.requests').add(1, { route: '/', method: 'GET' }) // no unit: another metric
  meter.createCounter('KEYLINE.t.requests', { unit: '{request}' }).add(1, { route: '/' }) // another metric too
  meter.createUpDownCounter('keyline.t.inflight').add(round === 1 ? 3 : -1)
  const duration = meter.createHistogram('keyline.t.duration', {
    unit: 's',
    advice: { explicitBucketBoundaries: [0.125, 1, 10] },
  })
  // Binary fractions: sums exact in any order.
  for (const v of [0.0625, 0.125, 0.5, 1, 9, 10, 11, 100]) duration.record(v * round, { op: 'a' })
  duration.record(-1, { op: 'a' }) // dropped
  const sizes = meter.createHistogram('keyline.t.size', { unit: 'By' })
  for (const v of [0, 3, 5, 6, 99, 10_001]) sizes.record(v)
  meter.createCounter('keyline.t.int', { valueType: 0 }).add(2.7, { op: 'b' })
  meter.createGauge('keyline.t.gauge').record(round * 10, { op: 'c' })
  if (round === 1) {
    meter.createCounter('keyline.t.unused')
    meter.createObservableGauge('keyline.t.observed', { unit: 's' }).addCallback((result) => {
      result.observe(gauge.value, { op: 'd' })
      if (gauge.value < 2) result.observe(1, { op: 'only-first' })
    })
    const total = meter.createObservableCounter('keyline.t.total')
    meter.addBatchObservableCallback((result) => result.observe(total, gauge.value * 4), [total])
  }
}

/** The parts of an OTLP JSON metric these tests read. */
interface RawPoint {
  asDouble?: number
  timeUnixNano: string
  min?: number
  max?: number
  bucketCounts?: number[]
}
type RawMetric = Record<string, unknown> & {
  name: string
  sum: { dataPoints: RawPoint[] }
  histogram: { dataPoints: RawPoint[] }
}

const normalise = (series: Series[]): Series[] =>
  series
    .filter((s) => Object.keys(s.points).length > 0)
    .map((s) => [JSON.stringify(s), s] as const)
    .sort(([a], [b]) => (a < b ? -1 : 1))
    .map(([, s]) => s)

const sdkSeries = async (reader: TestReader): Promise<Series[]> => {
  const { resourceMetrics, errors } = await reader.collect()
  expect(errors).toEqual([])
  return normalise(
    resourceMetrics.scopeMetrics.flatMap((s) =>
      s.metrics.map((m) => {
        const type = ['histogram', 'exponentialHistogram', 'gauge', 'sum'][
          m.dataPointType
        ] as string
        const monotonic = 'isMonotonic' in m ? { monotonic: m.isMonotonic } : {}
        const points = Object.fromEntries(
          m.dataPoints.map((p) => {
            const v = p.value as number | Histogram
            return [
              key(p.attributes),
              typeof v === 'number'
                ? v
                : { count: v.count, sum: v.sum, min: v.min, max: v.max, buckets: v.buckets.counts },
            ]
          })
        )
        return { name: m.descriptor.name, type, ...monotonic, points }
      })
    )
  )
}

const webSeries = async (provider: WebMeterProvider): Promise<Series[]> => {
  const collection = await provider.collect({ 'service.name': 'test' })
  expect(collection.errors).toEqual([])
  const body = JSON.parse(JSON.stringify(collection.request)) as unknown
  const [exported] = decodeExportRequest(body, {})
  expect(exported?.resource).toEqual({ 'service.name': 'test' })
  const raw = (
    body as { resourceMetrics: { scopeMetrics: { metrics: unknown[] }[] }[] }
  ).resourceMetrics[0]?.scopeMetrics.flatMap((s) => s.metrics) as RawMetric[]
  expect(collection.points).toBe(
    exported?.metrics.reduce((n, m) => n + m.points.length, 0) ?? Number.NaN
  )
  return normalise(
    (exported?.metrics ?? []).map((m) => {
      const data = raw.find((r) => r.name === m.name)?.[m.type] as { dataPoints: RawPoint[] }
      const points = Object.fromEntries(
        m.points.map((p, i) => {
          const rawPoint = data.dataPoints[i] as RawPoint
          return [
            key(p.attributes as Attributes),
            m.type === 'histogram'
              ? {
                  count: p.count,
                  sum: p.sum,
                  min: rawPoint.min,
                  max: rawPoint.max,
                  buckets: rawPoint.bucketCounts,
                }
              : p.value,
          ]
        })
      )
      return {
        name: m.name,
        type: m.type,
        ...(m.monotonic === undefined ? {} : { monotonic: m.monotonic }),
        points,
      }
    })
  )
}

describe('WebMeterProvider (the Workers and Deno metrics SDK)', () => {
  it('aggregates like @opentelemetry/sdk-metrics, cumulatively, round after round', async () => {
    const reader = new TestReader()
    const sdk = new SdkMeterProvider({ readers: [reader] })
    const web = new WebMeterProvider()
    const gauge = { value: 1 }
    for (const round of [1, 2]) {
      gauge.value = round
      drive(sdk, round, gauge)
      drive(web, round, gauge)
      const expected = await sdkSeries(reader)
      expect(expected.length).toBeGreaterThan(5)
      expect(await webSeries(web)).toEqual(expected)
    }
    await sdk.shutdown()
  })

  it('encodes OTLP JSON: cumulative sums and histograms, wall-clock nanosecond strings', async () => {
    const web = new WebMeterProvider()
    const meter = web.getMeter('keyline', '1.0.0')
    meter.createCounter('c', { description: 'd', unit: 'u' }).add(1.5, { a: 'x' })
    meter.createHistogram('h').record(7)
    const { request, points } = await web.collect({ 'service.name': 's', n: 3 })
    expect(points).toBe(2)
    const [resourceMetrics] = request.resourceMetrics
    expect(resourceMetrics?.resource.attributes).toEqual([
      { key: 'service.name', value: { stringValue: 's' } },
      { key: 'n', value: { intValue: 3 } },
    ])
    const [scope] = resourceMetrics?.scopeMetrics ?? []
    expect(scope?.scope).toEqual({ name: 'keyline', version: '1.0.0' })
    const [counter, histogram] = (scope?.metrics ?? []) as RawMetric[]
    expect(counter).toMatchObject({ name: 'c', description: 'd', unit: 'u' })
    expect(counter?.sum).toMatchObject({ aggregationTemporality: 2, isMonotonic: true })
    const point = counter?.sum.dataPoints[0] as RawPoint
    expect(point).toMatchObject({
      asDouble: 1.5,
      attributes: [{ key: 'a', value: { stringValue: 'x' } }],
    })
    expect(point.timeUnixNano).toMatch(/^\d+000000$/)
    const ms = Number(BigInt(point.timeUnixNano) / 1_000_000n)
    expect(Math.abs(ms - Date.now())).toBeLessThan(60_000)
    expect(histogram?.histogram).toMatchObject({ aggregationTemporality: 2 })
    expect(histogram?.histogram.dataPoints[0]).toMatchObject({
      count: 1,
      sum: 7,
      min: 7,
      max: 7,
      explicitBounds: [0, 5, 10, 25, 50, 75, 100, 250, 500, 750, 1000, 2500, 5000, 7500, 10000],
      bucketCounts: [0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0],
    })
  })

  it('reports a failing observable callback and still exports the rest', async () => {
    const web = new WebMeterProvider()
    const meter = web.getMeter('keyline')
    meter.createObservableGauge('bad').addCallback(() => {
      throw new Error('boom')
    })
    meter.createObservableGauge('good').addCallback(async (result) => result.observe(4))
    const { errors, points } = await web.collect({})
    expect(errors).toHaveLength(1)
    expect(points).toBe(1)
  })
})

import { metrics } from '@opentelemetry/api'
import {
  type DataPoint,
  type Histogram,
  MeterProvider,
  MetricReader,
} from '@opentelemetry/sdk-metrics'

/** A reader that exports only when a test calls `collect()`. */
class TestReader extends MetricReader {
  protected override async onShutdown(): Promise<void> {}
  protected override async onForceFlush(): Promise<void> {}
}

/** One data point as the tests compare it. */
export interface Point {
  attributes: Record<string, unknown>
  value: number | Histogram
}

/** A fresh global MeterProvider with a reader the test collects from. */
export interface TestMetrics {
  /** Data points of one metric by OTel name (empty when it has none). */
  points(name: string): Promise<Point[]>
  /** Every metric name collected. */
  names(): Promise<string[]>
  shutdown(): Promise<void>
}

/** Replaces the global MeterProvider with a fresh one and returns a way to read it. */
export const installTestMetrics = (): TestMetrics => {
  metrics.disable()
  const reader = new TestReader()
  const provider = new MeterProvider({ readers: [reader] })
  metrics.setGlobalMeterProvider(provider)
  const all = async () => {
    const { resourceMetrics, errors } = await reader.collect()
    if (errors.length > 0) throw errors[0]
    return resourceMetrics.scopeMetrics.flatMap((s) => s.metrics)
  }
  return {
    async points(name) {
      const metric = (await all()).find((m) => m.descriptor.name === name)
      const points = (metric?.dataPoints ?? []) as DataPoint<number | Histogram>[]
      return points.map((p) => ({
        attributes: { ...p.attributes },
        value: p.value,
      }))
    },
    async names() {
      return (await all()).map((m) => m.descriptor.name)
    },
    async shutdown() {
      await provider.shutdown()
      metrics.disable()
    },
  }
}

import { MetricReader } from '@opentelemetry/sdk-metrics'

/**
 * A metric reader with no timer of its own: the owner calls `collect()` when it wants the
 * current state. Cumulative temporality (the `MetricReader` default), so the aggregation
 * itself is the only state kept between exports; a failed export loses nothing that the next
 * one does not carry again, and nothing accumulates while a collector is down.
 */
export class OnDemandMetricReader extends MetricReader {
  protected override async onShutdown(): Promise<void> {}
  protected override async onForceFlush(): Promise<void> {}
}

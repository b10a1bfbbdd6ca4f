/**
 * keyline's metrics, for apps that export them or alert on them: the metric definitions and
 * attribute keys (the dashboards are generated from the same), the Prometheus names, the alert
 * thresholds, the failure classifiers, and the Web-API exporters (Workers, Deno). The Node
 * exporter is `keyline/telemetry/node`.
 */

export { anthropicErrorType } from '../catalog/anthropic.ts'
export { fyersErrorType } from '../catalog/fyers.ts'
export type { FailureFacts } from '../catalog/outcomes.ts'
export { ATTR, type AttributeKey, OTHER } from './attributes.ts'
export {
  METER_NAME,
  METRIC_KEYS,
  METRICS,
  type MetricDefinition,
  type MetricKey,
  type MetricKind,
} from './definitions.ts'
export { startDenoTelemetry } from './export/deno.ts'
export { type OtelFlushOptions, otelFlush } from './export/otel-flush.ts'
export { createWebExporter, flushTelemetry } from './export/web-exporter.ts'
export { PROM, prometheusMetricName, prometheusSeriesNames } from './prometheus-names.ts'
export { registerKeylineMetrics } from './record.ts'
export { ALERT_THRESHOLDS } from './thresholds.ts'

/** Metric definitions, the recording API and the Web-API exporters (Workers, Deno). */

export { anthropicErrorType } from '../catalog/anthropic.ts'
export { fyersErrorType } from '../catalog/fyers.ts'
export type { FailureFacts } from '../catalog/outcomes.ts'
export * from './attributes.ts'
export * from './definitions.ts'
export { startDenoTelemetry } from './export/deno.ts'
export { type OtelFlushOptions, otelFlush } from './export/otel-flush.ts'
export { createWebExporter, flushTelemetry } from './export/web-exporter.ts'
export * from './prometheus-names.ts'
export * from './record.ts'
export { ALERT_THRESHOLDS } from './thresholds.ts'

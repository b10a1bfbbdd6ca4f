import type { AttributeKey } from './attributes.ts'
import { METRIC_KEYS, METRICS, type MetricDefinition, type MetricKey } from './definitions.ts'

/**
 * Names as `@opentelemetry/exporter-prometheus` 0.223 writes them (PrometheusSerializer):
 * every character outside `[a-zA-Z0-9_]` becomes `_`, runs of `_` collapse to one, a leading
 * digit gets a `_` prefix, and monotonic sums (counters) get `_total` unless they already end
 * with it. This version adds no unit suffix (`s` does not become `_seconds`); histograms are
 * written as `<name>_bucket`, `<name>_sum` and `<name>_count`.
 */
const sanitize = (name: string): string => name.replace(/[^a-z0-9_]/gi, '_').replace(/_{2,}/g, '_')

/** Options of {@link prometheusMetricName}. */
export interface PrometheusNameOptions {
  /** The exporter's `prefix` option, joined with `_`. @default undefined */
  prefix?: string
}

/** The Prometheus metric family name the exporter gives a metric. */
export const prometheusMetricName = (
  definition: Pick<MetricDefinition, 'name' | 'kind'>,
  options: PrometheusNameOptions = {}
): string => {
  let name = sanitize(definition.name)
  if (options.prefix) name = `${options.prefix}_${name}`
  if (/^[0-9]/.test(name)) name = `_${name}`
  if (definition.kind === 'counter' && !name.endsWith('_total')) name = `${name}_total`
  return name
}

/** The Prometheus label name the exporter gives an attribute key, e.g. `error.type` → `error_type`. */
export const prometheusLabelName = (attribute: AttributeKey | string): string => sanitize(attribute)

/** Every series name a metric produces: the family name, or its `_bucket`/`_sum`/`_count`. */
export const prometheusSeriesNames = (
  definition: Pick<MetricDefinition, 'name' | 'kind'>,
  options: PrometheusNameOptions = {}
): string[] => {
  const name = prometheusMetricName(definition, options)
  return definition.kind === 'histogram'
    ? [`${name}_bucket`, `${name}_sum`, `${name}_count`]
    : [name]
}

/** The Prometheus family name of every keyline metric, by key (no prefix). */
export const PROM: { readonly [K in MetricKey]: string } = Object.fromEntries(
  METRIC_KEYS.map((key) => [key, prometheusMetricName(METRICS[key])])
) as { readonly [K in MetricKey]: string }

/** Label names of the exporter's scope info, added to every series unless disabled. */
export const PROMETHEUS_SCOPE_LABELS = ['otel_scope_name', 'otel_scope_version'] as const

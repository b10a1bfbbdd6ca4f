import type { PromDuration } from '../../src/telemetry/thresholds.ts'
import { type AlertSpec, alertExpr } from './alert-spec.ts'
import { COMMON_LABELS, RUNBOOK_URL } from './config.ts'

/** Labels of an alert rule: severity and the common routing labels. */
export const alertLabels = (alert: AlertSpec): Record<string, string> => ({
  severity: alert.severity,
  ...COMMON_LABELS,
})

/** Annotations of an alert rule, in both Prometheus and Grafana. */
export const alertAnnotations = (alert: AlertSpec): Record<string, string> => ({
  summary: alert.summary,
  description: alert.description,
  runbook: alert.runbook,
  runbook_url: `${RUNBOOK_URL}#${alert.name.toLowerCase()}`,
})

/** Alerts grouped by their `group`, in first-seen order. */
export const groupAlerts = (alerts: readonly AlertSpec[]): Array<[string, AlertSpec[]]> => {
  const groups = new Map<string, AlertSpec[]>()
  for (const alert of alerts) groups.set(alert.group, [...(groups.get(alert.group) ?? []), alert])
  return [...groups]
}

/** Options of {@link prometheusRules}. */
export interface PrometheusRulesOptions {
  /** Evaluation interval of every rule group. @default '1m' */
  interval?: PromDuration
}

/** The Prometheus/Mimir rule file (`groups: - name, rules: - alert, expr, for, …`). */
export const prometheusRules = (
  alerts: readonly AlertSpec[],
  options: PrometheusRulesOptions = {}
): unknown => ({
  groups: groupAlerts(alerts).map(([name, rules]) => ({
    name,
    interval: options.interval ?? '1m',
    rules: rules.map((alert) => ({
      alert: alert.name,
      expr: alertExpr(alert),
      for: alert.for,
      labels: alertLabels(alert),
      annotations: alertAnnotations(alert),
    })),
  })),
})

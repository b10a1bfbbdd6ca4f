import type { AlertSpec, Comparison } from './alert-spec.ts'
import { DATASOURCE_UID_VARIABLE, GRAFANA } from './config.ts'
import { alertAnnotations, alertLabels, groupAlerts } from './prometheus-rules.ts'

const EVALUATOR: Readonly<Record<Comparison, string>> = { '>': 'gt', '>=': 'gte', '<': 'lt' }

const EXPR = { type: '__expr__', uid: '__expr__' } as const

/** The `data` of a Grafana rule: Prometheus query A, reduce B (last), threshold C. */
const ruleData = (alert: AlertSpec): unknown[] => {
  const datasourceUid = `\${${DATASOURCE_UID_VARIABLE}}`
  return [
    {
      refId: 'A',
      relativeTimeRange: { from: 600, to: 0 },
      datasourceUid,
      model: {
        refId: 'A',
        datasource: { type: 'prometheus', uid: datasourceUid },
        expr: alert.query,
        instant: true,
        range: false,
        intervalMs: 1000,
        maxDataPoints: 43200,
      },
    },
    {
      refId: 'B',
      datasourceUid: '__expr__',
      model: {
        refId: 'B',
        datasource: EXPR,
        type: 'reduce',
        expression: 'A',
        reducer: 'last',
        settings: { mode: 'dropNN' },
      },
    },
    {
      refId: 'C',
      datasourceUid: '__expr__',
      model: {
        refId: 'C',
        datasource: EXPR,
        type: 'threshold',
        expression: 'B',
        conditions: [
          { evaluator: { type: EVALUATOR[alert.comparison], params: [alert.threshold] } },
        ],
      },
    },
  ]
}

/** Grafana alert rules in the file-provisioning format (`apiVersion: 1`, `groups`). */
export const grafanaAlertRules = (alerts: readonly AlertSpec[]): unknown => ({
  apiVersion: 1,
  groups: groupAlerts(alerts).map(([name, rules]) => ({
    orgId: GRAFANA.orgId,
    name,
    folder: GRAFANA.folder,
    interval: GRAFANA.interval,
    rules: rules.map((alert) => ({
      uid: alert.uid,
      title: alert.title,
      condition: 'C',
      data: ruleData(alert),
      noDataState: alert.noDataState,
      execErrState: 'Error',
      for: alert.for,
      isPaused: false,
      labels: alertLabels(alert),
      annotations: alertAnnotations(alert),
    })),
  })),
})

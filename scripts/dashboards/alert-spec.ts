import type { PromDuration } from '../../src/telemetry/thresholds.ts'

/** A comparison an alert applies to its query's value. */
export type Comparison = '>' | '>=' | '<'

/** One input series of a promtool test: a series selector and one value per interval. */
export interface TestSeries {
  series: string
  values: readonly number[]
}

/** What must be firing at one evaluation time: the extra labels of each alert, or none. */
export interface TestExpectation {
  /** Minutes since the start of the series. */
  atMinute: number
  /** Labels each firing alert has besides `alertname`, `severity` and `team`; `[]` = none. */
  firing: ReadonlyArray<Readonly<Record<string, string>>>
}

/** One promtool scenario of an alert. */
export interface TestScenario {
  /** What the scenario shows, written as a comment above it. */
  title: string
  /** Spacing of the input samples. @default '1m' */
  interval?: PromDuration
  series: readonly TestSeries[]
  expect: readonly TestExpectation[]
}

/** One alert, rendered as a Prometheus rule, a Grafana rule and promtool tests. */
export interface AlertSpec {
  /** Prometheus `alert` name, also the runbook anchor. */
  name: string
  /** Grafana rule uid (at most 40 characters). */
  uid: string
  /** Grafana rule group and Prometheus rule group. */
  group: string
  /** Grafana rule title. */
  title: string
  /** PromQL whose value is compared; its labels are the alert's instance labels. */
  query: string
  comparison: Comparison
  threshold: number
  for: PromDuration
  severity: 'critical' | 'warning'
  /** Grafana's state when the query returns nothing. */
  noDataState: 'OK' | 'NoData' | 'Alerting'
  /** One line; may use `{{ $labels.<name> }}` and nothing else from the template language. */
  summary: string
  /** What it means. Same template rules as `summary`. */
  description: string
  /** What to do, step by step. */
  runbook: string
  scenarios: readonly TestScenario[]
}

/** The full Prometheus expression of an alert: its query compared with its threshold. */
export const alertExpr = (alert: Pick<AlertSpec, 'query' | 'comparison' | 'threshold'>): string => {
  const query = /\b(and|or|unless)\b/.test(alert.query) ? `(${alert.query})` : alert.query
  return `${query} ${alert.comparison} ${alert.threshold}`
}

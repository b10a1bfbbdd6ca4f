import { parser } from '@prometheus-io/lezer-promql'
import { describe, expect, it } from 'vitest'
import { alertExpr } from '../../../scripts/dashboards/alert-spec.ts'
import { ALERTS } from '../../../scripts/dashboards/alerts.ts'
import { grafanaAlertRules } from '../../../scripts/dashboards/grafana-alert-rules.ts'
import { dashboardExprs } from '../../../scripts/dashboards/grafana-dashboard.ts'
import { templateLabels } from '../../../scripts/dashboards/template.ts'
import { METRIC_KEYS, METRICS } from '../../../src/telemetry/definitions.ts'
import {
  PROM,
  prometheusLabelName,
  prometheusSeriesNames,
} from '../../../src/telemetry/prometheus-names.ts'
import { ALERT_THRESHOLDS } from '../../../src/telemetry/thresholds.ts'

/** Grafana's built-in variables, replaced by sample values so lezer-promql sees plain PromQL. */
const withoutGrafanaVariables = (expr: string): string =>
  expr.replaceAll('$__rate_interval', '5m').replaceAll('$__range', '1h')

interface Parsed {
  errors: string[]
  metrics: string[]
  labels: string[]
}

const parse = (expr: string): Parsed => {
  const errors: string[] = []
  const metrics: string[] = []
  const labels: string[] = []
  parser.parse(expr).iterate({
    enter(node) {
      const text = expr.slice(node.from, node.to)
      if (node.type.isError)
        errors.push(`error at ${node.from}: "${expr.slice(node.from, node.from + 20)}"`)
      if (node.name === 'Identifier' && node.node.parent?.name === 'VectorSelector')
        metrics.push(text)
      if (node.name === 'LabelName') labels.push(text)
    },
  })
  return { errors, metrics, labels }
}

const alertExprs = ALERTS.flatMap((a) => [alertExpr(a), a.query])
const panelExprs = dashboardExprs().map(withoutGrafanaVariables)
const allExprs = [...alertExprs, ...panelExprs]

const seriesOfDefinitions = new Set(METRIC_KEYS.flatMap((k) => prometheusSeriesNames(METRICS[k])))
const labelsOfDefinitions = new Set([
  'le',
  ...METRIC_KEYS.flatMap((k) => METRICS[k].attributes.map(prometheusLabelName)),
])

describe('PromQL of alerts and panels', () => {
  it.each(allExprs)('parses without error nodes: %s', (expr) => {
    expect(parse(expr).errors).toEqual([])
  })

  it.each(allExprs)('names only defined metrics and labels: %s', (expr) => {
    const { metrics, labels } = parse(expr)
    expect(metrics.length).toBeGreaterThan(0)
    for (const metric of metrics) expect(seriesOfDefinitions).toContain(metric)
    for (const label of labels) expect(labelsOfDefinitions).toContain(label)
  })

  it('uses every defined metric in some alert or panel', () => {
    const used = new Set(allExprs.flatMap((e) => parse(e).metrics))
    const unused = METRIC_KEYS.filter(
      (k) => !prometheusSeriesNames(METRICS[k]).some((n) => used.has(n))
    )
    expect(unused).toEqual([])
  })

  it('templates in alert texts name only labels the alert has', () => {
    for (const alert of ALERTS) {
      const available = new Set(['severity', 'team', ...parse(alert.query).labels])
      for (const text of [alert.summary, alert.description]) {
        for (const label of templateLabels(text)) expect(available, alert.name).toContain(label)
      }
    }
  })
})

describe('alert rules', () => {
  it('have unique names and Grafana uids of at most 40 characters', () => {
    expect(new Set(ALERTS.map((a) => a.name)).size).toBe(ALERTS.length)
    expect(new Set(ALERTS.map((a) => a.uid)).size).toBe(ALERTS.length)
    for (const a of ALERTS) expect(a.uid.length).toBeLessThanOrEqual(40)
  })

  it('keep `$` out of the fields Grafana interpolates from the environment', () => {
    for (const a of ALERTS) {
      expect(a.query).not.toContain('$')
      expect(a.title).not.toContain('$')
    }
  })

  it('take their thresholds from src/telemetry', () => {
    const byName = new Map(ALERTS.map((a) => [a.name, a]))
    expect(byName.get('KeylineAiConsecutiveFailures')?.threshold).toBe(
      ALERT_THRESHOLDS.consecutiveFailures
    )
    expect(byName.get('KeylineFyersConsecutiveFailures')?.threshold).toBe(
      ALERT_THRESHOLDS.consecutiveFailures
    )
    expect(byName.get('KeylineFyersRefreshTokenExpiring')?.threshold).toBe(172_800)
    expect(byName.get('KeylineAiHighFailureRatio')?.threshold).toBe(ALERT_THRESHOLDS.failureRatio)
    expect(byName.get('KeylineFyersRefreshTokenExpiring')?.query).toContain(
      PROM.fyersRefreshTokenRemaining
    )
  })

  it('render in Grafana as query A, reduce B and threshold C with the same comparison', () => {
    const rules = (
      grafanaAlertRules(ALERTS) as {
        groups: Array<{
          rules: Array<{
            uid: string
            condition: string
            data: Array<{ refId: string; datasourceUid: string; model: Record<string, unknown> }>
          }>
        }>
      }
    ).groups.flatMap((g) => g.rules)
    expect(rules).toHaveLength(ALERTS.length)
    for (const rule of rules) {
      const alert = ALERTS.find((a) => a.uid === rule.uid)
      expect(rule.condition).toBe('C')
      expect(rule.data.map((d) => d.refId)).toEqual(['A', 'B', 'C'])
      expect(rule.data[0]?.model.expr).toBe(alert?.query)
      expect(rule.data[1]?.datasourceUid).toBe('__expr__')
      expect(rule.data[2]?.model).toMatchObject({
        type: 'threshold',
        expression: 'B',
        conditions: [{ evaluator: { params: [alert?.threshold] } }],
      })
    }
  })
})

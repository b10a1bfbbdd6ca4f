import { isSeq } from 'yaml'
import type { AlertSpec } from './alert-spec.ts'
import { GENERATED_NOTICE, PATHS } from './config.ts'
import { alertAnnotations, alertLabels } from './prometheus-rules.ts'
import { expandLabels } from './template.ts'
import { portableYaml, yamlDocument } from './yaml.ts'

/** `to` relative to the directory `from`, both repository-relative POSIX paths. */
const relativePath = (from: string, to: string): string => {
  const a = from.split('/')
  const b = to.split('/')
  let common = 0
  while (common < a.length && a[common] === b[common]) common++
  return [...a.slice(common).map(() => '..'), ...b.slice(common)].join('/')
}

/** The promtool unit-test file of one alert: one test group per scenario. */
export const promtoolTestFile = (alert: AlertSpec): string => {
  const labels = alertLabels(alert)
  const annotations = alertAnnotations(alert)
  const tests = alert.scenarios.map((scenario) => {
    return {
      interval: scenario.interval ?? '1m',
      input_series: scenario.series.map((s) => ({ series: s.series, values: s.values.join(' ') })),
      alert_rule_test: scenario.expect.map((e) => ({
        eval_time: `${e.atMinute}m`,
        alertname: alert.name,
        exp_alerts: e.firing.map((extra) => {
          const all = { ...labels, ...extra }
          return {
            exp_labels: all,
            exp_annotations: Object.fromEntries(
              Object.entries(annotations).map(([k, v]) => [k, expandLabels(v, all)])
            ),
          }
        }),
      })),
    }
  })
  const doc = yamlDocument({
    rule_files: [relativePath(PATHS.promtoolTests, PATHS.prometheusRules)],
    evaluation_interval: '1m',
    tests,
  })
  doc.commentBefore = ` ${alert.name}: ${alert.title}\n ${GENERATED_NOTICE}`
  const seq = doc.get('tests')
  if (isSeq(seq)) {
    seq.items.forEach((item, i) => {
      const node = item as { commentBefore?: string }
      node.commentBefore = ` ${alert.scenarios[i]?.title ?? ''}`
    })
  }
  return portableYaml(doc)
}

/** Path of the promtool test file of an alert. */
export const promtoolTestPath = (alert: AlertSpec): string =>
  `${PATHS.promtoolTests}/${alert.name.replace(/([a-z])([A-Z])/g, '$1-$2').toLowerCase()}.test.yml`

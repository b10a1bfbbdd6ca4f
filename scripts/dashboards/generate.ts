import { ALERTS, type AlertThresholds, alertSpecs } from './alerts.ts'
import { GENERATED_NOTICE, PATHS } from './config.ts'
import { grafanaAlertRules } from './grafana-alert-rules.ts'
import { grafanaDashboard } from './grafana-dashboard.ts'
import { contactPoints, dashboardProvider, notificationPolicies } from './notification-examples.ts'
import { type PrometheusRulesOptions, prometheusRules } from './prometheus-rules.ts'
import { promtoolTestFile, promtoolTestPath } from './promtool-tests.ts'
import { runbooksMarkdown } from './runbooks.ts'
import { portableYaml, yamlDocument } from './yaml.ts'

const yamlFile = (value: unknown): string =>
  `# ${GENERATED_NOTICE}\n${portableYaml(yamlDocument(value))}`

/** Options of {@link prometheusRuleFile}. */
export interface PrometheusRuleFileOptions extends PrometheusRulesOptions {
  /** Thresholds and windows of the alerts. @default ALERT_THRESHOLDS */
  thresholds?: AlertThresholds
}

/**
 * The Prometheus rule file: {@link PATHS.prometheusRules} with the defaults. Pure. Other
 * `thresholds` (e.g. from `scaleAlertTimings`) and `interval` give the same alerts, expressions
 * and thresholds with other timings, so a test can watch the real rules fire in seconds.
 */
export const prometheusRuleFile = (options: PrometheusRuleFileOptions = {}): string => {
  const { thresholds, ...rest } = options
  return yamlFile(prometheusRules(thresholds ? alertSpecs(thresholds) : ALERTS, rest))
}

/**
 * Every generated file under `dashboards/`, by path relative to the repository root. Pure: the
 * same definitions always give the same bytes, which the drift test compares with the disk.
 */
export const generateDashboards = (): Record<string, string> => {
  const files: Record<string, string> = {
    [PATHS.grafanaAlertRules]: yamlFile(grafanaAlertRules(ALERTS)),
    [PATHS.grafanaContactPoints]: yamlFile(contactPoints()),
    [PATHS.grafanaPolicies]: yamlFile(notificationPolicies()),
    [PATHS.grafanaDashboardProvider]: yamlFile(dashboardProvider()),
    [PATHS.grafanaDashboard]: `${JSON.stringify(grafanaDashboard(), null, 2)}\n`,
    [PATHS.prometheusRules]: prometheusRuleFile(),
    [PATHS.runbooks]: runbooksMarkdown(ALERTS),
  }
  for (const alert of ALERTS) files[promtoolTestPath(alert)] = promtoolTestFile(alert)
  return files
}

/** Directories whose files all come from {@link generateDashboards}: stale files there are drift. */
export const GENERATED_DIRS = ['dashboards/generated', PATHS.promtoolTests] as const

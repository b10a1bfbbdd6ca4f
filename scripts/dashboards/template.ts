const LABEL_TEMPLATE = /\{\{ \$labels\.([a-zA-Z_][a-zA-Z0-9_]*) \}\}/g

/**
 * Expands the only template form alert texts may use, `{{ $labels.<name> }}`, the way
 * Prometheus and Grafana do, so the promtool tests can state the exact annotations. Throws on
 * any other template.
 */
export const expandLabels = (text: string, labels: Readonly<Record<string, string>>): string => {
  const expanded = text.replace(LABEL_TEMPLATE, (_, name: string) => labels[name] ?? '')
  if (expanded.includes('{{')) throw new Error(`unsupported template in: ${text}`)
  return expanded
}

/** Label names an alert text refers to. */
export const templateLabels = (text: string): string[] =>
  [...text.matchAll(LABEL_TEMPLATE)].map((m) => m[1] as string)

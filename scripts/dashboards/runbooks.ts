import { type AlertSpec, alertExpr } from './alert-spec.ts'
import { GENERATED_NOTICE } from './config.ts'

/** `runbooks.md`: one section per alert; its heading is the anchor of the alert's runbook_url. */
export const runbooksMarkdown = (alerts: readonly AlertSpec[]): string => {
  const sections = alerts.map((a) =>
    [
      `## ${a.name}`,
      '',
      `**${a.title}** — severity \`${a.severity}\`, fires after \`${a.for}\`.`,
      '',
      a.description.replace(/\{\{ \$labels\.(\w+) \}\}/g, '`<$1>`'),
      '',
      '```promql',
      alertExpr(a),
      '```',
      '',
      a.runbook,
      '',
    ].join('\n')
  )
  return [`<!-- ${GENERATED_NOTICE} -->`, '', '# keyline alert runbooks', '', ...sections].join(
    '\n'
  )
}

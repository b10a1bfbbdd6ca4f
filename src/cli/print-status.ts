import type { KeyStatus } from '../admin/index.ts'

/** A short human summary of a status: one block per provider, fingerprints only. */
export const formatStatus = (status: KeyStatus): string => {
  const lines = [`runtime ${status.runtime} at ${status.time}`]
  for (const [id, p] of Object.entries(status.providers)) {
    lines.push(
      `${id}: ${p.configured ? 'configured' : `not configured (${p.reasons.join(', ')})`}, generation ${p.generation}`
    )
    lines.push(
      `  current: ${p.current ? `${p.current.fingerprint} from ${p.current.source}` : 'none'}`
    )
    lines.push(
      `  next:    ${p.next ? `${p.next.fingerprint} from ${p.next.source}: ${p.next.validity}${p.next.reason ? ` (${p.next.reason})` : ''}` : 'none'}`
    )
    const h = p.health
    lines.push(
      `  health:  ${h.consecutiveFailures} consecutive failures, ${h.failovers} failovers` +
        (h.lastErrorType ? `, last error ${h.lastErrorType} at ${h.lastFailureAt}` : '')
    )
    for (const issue of p.issues)
      lines.push(`  ${issue.blocking ? 'error' : 'note'}:    ${issue.message}`)
  }
  return lines.join('\n')
}

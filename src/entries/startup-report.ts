import { PROVIDER_IDS } from '../catalog/providers.ts'
import type { EnvRecord } from '../env.ts'
import { clientTokensStatus } from '../middleware/client-auth.ts'
import type { SecretRegistry } from '../secrets/registry.ts'

/** One line of the start-up log (a JSON log line). */
export interface StartupLine {
  readonly level: 'info' | 'warn'
  readonly msg: string
  readonly [field: string]: unknown
}

/** Issues every unconfigured optional setting has: not worth a warning at start. */
const QUIET_REASONS = new Set(['missing', 'empty'])

/**
 * What the Node and Deno entries log at start, besides the URL: one `warn` line for every
 * configuration problem worth acting on (a secure store that gave no usable value, a
 * placeholder, an alias conflict, an unreadable `_FILE`, malformed client tokens), each with
 * the variable and the reason, never a value. Reads every store once (a value keyline fetches
 * on first use anyway), so a mistake shows at start rather than as a 401 or 503 later.
 */
export const startupWarnings = async (
  registry: SecretRegistry,
  env: EnvRecord
): Promise<StartupLine[]> => {
  const laid = await registry.environment(env)
  const [snapshot, clients] = await Promise.all([
    registry.resolve(laid),
    clientTokensStatus(laid, registry),
  ])
  const lines: StartupLine[] = []
  const seen = new Set<string>()
  for (const id of PROVIDER_IDS) {
    for (const issue of snapshot[id].issues) {
      if (QUIET_REASONS.has(issue.reason) || seen.has(issue.message)) continue
      seen.add(issue.message)
      lines.push({
        level: 'warn',
        msg: issue.message,
        provider: id,
        variable: issue.variable,
        reason: issue.reason,
      })
    }
  }
  if (clients.problem && clients.problem !== 'missing') {
    lines.push({
      level: 'warn',
      msg:
        clients.message ??
        (clients.problem === 'unreadable'
          ? 'KEYLINE_CLIENT_TOKENS_FILE names a file keyline cannot read: the proxy is closed'
          : 'KEYLINE_CLIENT_TOKENS has an entry that is neither a token of 16+ characters nor sha256:<64 hex digits>: the proxy is closed'),
      variable: 'KEYLINE_CLIENT_TOKENS',
      reason: clients.problem,
    })
  }
  return lines
}

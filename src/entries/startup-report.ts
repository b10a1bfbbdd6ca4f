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

/** What `--help` on the Node and Deno entries prints: the variables, one line each. */
export const ENTRY_HELP = `keyline: the proxy server. Usage: node src/entries/node.ts | deno run … src/entries/deno.ts
Configuration is read from the environment (and .env with npm start); every credential may also
be NAME_FILE=/path, NAME_AWS_SECRET=<id> (with NAME_AWS_SECRET_FIELD=<field>) or NAME_AWS_PARAMETER.

  HOST, PORT                       where to listen (default 127.0.0.1, 8787)
  SHUTDOWN_TIMEOUT_MS              how long SIGTERM/SIGINT drains in-flight requests (default 10000)
  KEYLINE_CLIENT_TOKENS            client bearer tokens, comma-separated (name=token, sha256:<hex>); unset: proxy closed
  ADMIN_TOKEN, ADMIN_TOKEN_NEW     bearer token(s) of /admin/* and the console; unset: admin off
  ANTHROPIC_API_KEY                Anthropic key (alias CLAUDE_API_KEY); ANTHROPIC_API_KEY_NEW stages the next
  ANTHROPIC_BASE_URL               Anthropic upstream (default https://api.anthropic.com)
  FYERS_CLIENT_ID                  Fyers API v3 app id
  FYERS_ACCESS_TOKEN               Fyers access token; FYERS_ACCESS_TOKEN_NEW stages the next
  FYERS_BASE_URL                   Fyers upstream (default https://api-t1.fyers.in)
  FYERS_APP_SECRET, FYERS_PIN      with FYERS_REFRESH_TOKEN: keyline refreshes the access token itself
  FYERS_REDIRECT_URI               https://<keyline>/admin/fyers/callback, for keyline fyers login
  KEYLINE_REDIS_URL                the store replicas share (vault, refresh lock, reload epoch)
  KEYLINE_VAULT_FILE               else a file for one instance (else memory)
  KEYLINE_VAULT_KEY                Fernet key encrypting the tokens keyline stores (KEYLINE_VAULT_KEY_OLD: earlier ones)
  AWS_REGION, AWS_ENDPOINT_URL     AWS Secrets Manager / SSM region and endpoint override
  KEYLINE_STORE_TTL_SECONDS        how long a store value is used before it is fetched again (default 3600)
  KEYLINE_TRUST_PROXY              true: the admin rate limit reads the first x-forwarded-for hop
  LOG_LEVEL                        debug, info, warn, error, silent (default info)

README.md ("Configuration") says more; .env.example lists them all.`

/** Whether the entry was started with `--help` (or `-h`). */
export const wantsHelp = (args: readonly string[]): boolean =>
  args.includes('--help') || args.includes('-h')

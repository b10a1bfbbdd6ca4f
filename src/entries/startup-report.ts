import { adminTokens } from '../admin/admin-auth.ts'
import { FYERS_TRADING_VARIABLE } from '../catalog/fyers.ts'
import { CLIENT_LIMITS_VARIABLE, CLIENT_TOKENS_VARIABLE } from '../catalog/keyline.ts'
import { PROVIDER_IDS, type ProviderId, providerDefinitions } from '../catalog/providers.ts'
import type { EnvRecord } from '../env.ts'
import { clientTokensStatus } from '../middleware/client-auth.ts'
import { ClientQuotas } from '../middleware/client-quotas.ts'
import { tradingOn } from '../providers/fyers/trading.ts'
import type { SecretRegistry } from '../secrets/registry.ts'
import type { SharedStore } from '../store/shared-store.ts'
import {
  parseStoreTimeout,
  STORE_TIMEOUT_VARIABLE,
  STORE_TIMEOUT_WARNING,
} from '../store/store-deadline.ts'
import {
  DEFAULT_MAX_UPLOAD_BYTES,
  MAX_UPLOAD_VARIABLE,
  parseMaxUpload,
} from '../upstream/upload-limit.ts'

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
 * placeholder, an alias conflict, an unreadable `_FILE`, malformed client tokens or client
 * limits, a limit for a name no token has, an upload cap that is not a number), each with
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
  if (parseMaxUpload(laid[MAX_UPLOAD_VARIABLE]) === null) {
    lines.push({
      level: 'warn',
      msg: `${MAX_UPLOAD_VARIABLE} is not a positive whole number of bytes: uploads are capped at the default, ${DEFAULT_MAX_UPLOAD_BYTES}`,
      variable: MAX_UPLOAD_VARIABLE,
      reason: 'invalid',
    })
  }
  const trading = laid[FYERS_TRADING_VARIABLE]
  if (typeof trading === 'string' && trading.trim() !== '' && !tradingOn(trading)) {
    lines.push({
      level: 'warn',
      msg: `${FYERS_TRADING_VARIABLE} is not "on" (the only value that switches it on): Fyers trading stays off, /fyers/* is read only`,
      variable: FYERS_TRADING_VARIABLE,
      reason: 'invalid',
    })
  }
  if (parseStoreTimeout(laid[STORE_TIMEOUT_VARIABLE]) === null) {
    lines.push({
      level: 'warn',
      msg: STORE_TIMEOUT_WARNING,
      variable: STORE_TIMEOUT_VARIABLE,
      reason: 'invalid',
    })
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
  // Malformed quota entries (those clients are refused) and quotas for names no token has.
  const quotas = await new ClientQuotas({ files: registry }).status(laid, clients.names)
  for (const issue of quotas.issues) {
    lines.push({
      level: 'warn',
      msg: issue,
      variable: CLIENT_LIMITS_VARIABLE,
      reason: 'client_limits',
    })
  }
  return lines
}

/** What `--help` on the Node and Deno entries prints: the variables, one line each. */
export const ENTRY_HELP = `keyline: the proxy server. Usage: node src/entries/node.ts | deno run … src/entries/deno.ts
Configuration is read from the environment (and .env with npm start); every credential, the client
tokens and KEYLINE_CLIENT_LIMITS may also be NAME_FILE=/path (KEYLINE_CLIENT_LIMITS_FILE…),
NAME_AWS_SECRET=<id> (with NAME_AWS_SECRET_FIELD=<field>) or NAME_AWS_PARAMETER.

  HOST, PORT                       where to listen (default 127.0.0.1, 8787)
  SHUTDOWN_TIMEOUT_MS              how long SIGTERM/SIGINT drains in-flight requests (default 10000)
  KEYLINE_CLIENT_TOKENS            client bearer tokens, comma-separated (name=token, sha256:<hex>); unset: proxy closed
  KEYLINE_CLIENT_LIMITS            per-client quotas, comma-separated name:rpm=N[:tpm=N][:rpd=N][:tpd=N]; unset: unlimited
  KEYLINE_CLIENT_LIMITS_FAIL       open (default: served while the counter store is down) or closed (503)
  ADMIN_TOKEN, ADMIN_TOKEN_NEW     bearer token(s) of /admin/* and the console; unset: admin off
  ANTHROPIC_API_KEY                Anthropic key (alias CLAUDE_API_KEY); ANTHROPIC_API_KEY_NEW stages the next
  ANTHROPIC_BASE_URL               Anthropic upstream (default https://api.anthropic.com)
  FYERS_CLIENT_ID                  Fyers API v3 app id
  FYERS_ACCESS_TOKEN               Fyers access token; FYERS_ACCESS_TOKEN_NEW stages the next
  FYERS_BASE_URL                   Fyers upstream (default https://api-t1.fyers.in)
  FYERS_APP_SECRET, FYERS_PIN      with FYERS_REFRESH_TOKEN: keyline refreshes the access token itself
  FYERS_REDIRECT_URI               https://<keyline>/admin/fyers/callback, for keyline fyers login
  KEYLINE_FYERS_TRADING            on (any case; nothing else): /fyers/* and c.var.fyers may place, modify, cancel orders (default: read only)
  KEYLINE_FYERS_TRADING_CLIENTS    with it: only these client token names may trade (comma-separated)
  KEYLINE_REDIS_URL                the store replicas share (vault, refresh lock, reload epoch, quota counters)
  KEYLINE_VAULT_FILE               else a file for one instance (else memory)
  KEYLINE_STORE_TIMEOUT_MS         deadline of each call to that store, connecting included (default 250)
  KEYLINE_VAULT_KEY                Fernet key encrypting the tokens keyline stores (KEYLINE_VAULT_KEY_OLD: earlier ones)
  AWS_REGION, AWS_ENDPOINT_URL     AWS Secrets Manager / SSM region and endpoint override
  KEYLINE_STORE_TTL_SECONDS        how long a store value is used before it is fetched again (default 3600)
  KEYLINE_MAX_UPLOAD_BYTES         largest body of a passthrough route (/v1/files uploads), else 413 (default 524288000)
  KEYLINE_TRUST_PROXY              true: the admin rate limit reads the first x-forwarded-for hop
  LOG_LEVEL                        debug, info, warn, error, silent (default info)

README.md ("Configuration") says more; .env.example lists them all.`

/** Whether the entry was started with `--help` (or `-h`). */
export const wantsHelp = (args: readonly string[]): boolean =>
  args.includes('--help') || args.includes('-h')

/** One provider as the start-up banner shows it: configured or not, and where from. */
export interface ProviderFacts {
  readonly configured: boolean
  /** Where each credential with a value was read (`env:NAME`, `file:/path`, `aws-sm:<id>`…). */
  readonly sources: readonly string[]
  /** The variables whose absence or problem keeps it unconfigured. */
  readonly missing: readonly string[]
}

/** What the start-up banner says: never a value, nor a fingerprint. */
export interface StartupFacts {
  readonly runtime: string
  readonly url: string
  readonly providers: { readonly [P in ProviderId]: ProviderFacts }
  /** The proxy: open with client tokens, else closed (`KEYLINE_CLIENT_TOKENS` opens it). */
  readonly proxy: {
    readonly open: boolean
    readonly clientTokens: number
    readonly source: string | null
    readonly problem: string | null
  }
  /** The admin API and the console (`<url>/admin`): on with an admin token. */
  readonly admin: { readonly on: boolean; readonly consoleUrl: string | null }
  /** The shared store: its kind and, for Redis and a file, where (a Redis URL without its password). */
  readonly store: { readonly kind: SharedStore['kind']; readonly location: string | null }
  readonly metricsUrl?: string
}

/** A Redis URL without its user and password. */
const redisLocation = (raw: string): string => {
  try {
    const url = new URL(raw)
    url.username = ''
    url.password = ''
    return url.toString().replace(/\/$/, '')
  } catch {
    return 'redis'
  }
}

const text = (value: unknown): string | null =>
  typeof value === 'string' && value.trim() !== '' ? value.trim() : null

/** Reads what the banner says from the wiring: the registry's snapshot, the client and admin tokens, the store. */
export const startupFacts = async (
  wiring: { readonly registry: SecretRegistry; readonly store: Pick<SharedStore, 'kind'> },
  env: EnvRecord,
  listening: { readonly runtime: string; readonly url: string; readonly metricsUrl?: string }
): Promise<StartupFacts> => {
  const { registry, store } = wiring
  const laid = await registry.environment(env)
  const [snapshot, clients] = await Promise.all([
    registry.resolve(laid),
    clientTokensStatus(laid, registry),
  ])
  const providers = {} as Record<ProviderId, ProviderFacts>
  for (const id of PROVIDER_IDS) {
    const provider = snapshot[id]
    const sources: string[] = []
    for (const state of Object.values(provider.credentials)) {
      const source = (state as { current?: { source: string } }).current?.source
      if (source && !sources.includes(source)) sources.push(source)
    }
    const missing = [
      ...new Set(provider.issues.filter((issue) => issue.blocking).map((i) => i.variable)),
    ]
    providers[id] = { configured: provider.configured, sources, missing }
  }
  const admin = adminTokens(env).length > 0
  const location =
    store.kind === 'redis'
      ? redisLocation(text(env.KEYLINE_REDIS_URL) ?? '')
      : store.kind === 'file'
        ? text(env.KEYLINE_VAULT_FILE)
        : null
  return {
    runtime: listening.runtime,
    url: listening.url,
    providers,
    proxy: {
      open: clients.configured,
      clientTokens: clients.count,
      source: clients.source,
      problem: clients.problem,
    },
    admin: { on: admin, consoleUrl: admin ? `${listening.url}/admin` : null },
    store: { kind: store.kind, location },
    ...(listening.metricsUrl ? { metricsUrl: listening.metricsUrl } : {}),
  }
}

const STORE_WORDS: Record<SharedStore['kind'], string> = {
  redis: 'Redis, shared by every replica',
  file: 'a file, for this one instance',
  memory: 'memory: nothing survives a restart (set KEYLINE_REDIS_URL or KEYLINE_VAULT_FILE)',
  kv: 'Workers KV',
  'durable-object': 'a Durable Object, shared by every isolate',
}

const providerLine = (id: ProviderId, facts: ProviderFacts): string => {
  const name = providerDefinitions[id].name
  const from = facts.sources.length > 0 ? ` from ${facts.sources.join(', ')}` : ''
  return facts.configured
    ? `${name}: configured${from}`
    : `${name}: not configured${facts.missing.length > 0 ? ` (set ${facts.missing.join(', ')})` : ''}`
}

/**
 * The one start-up line of the Node and Deno entries: on a terminal (`tty`), a few lines a
 * person reads; else one JSON log line (`msg: 'keyline listening'`, `runtime`, `url`, and the
 * facts as fields) that tests and log pipelines parse.
 */
export const startupBanner = (facts: StartupFacts, { tty }: { tty: boolean }): string => {
  if (!tty) {
    const providers: Record<string, ProviderFacts> = {}
    for (const id of PROVIDER_IDS) providers[id] = facts.providers[id]
    return JSON.stringify({
      level: 'info',
      msg: 'keyline listening',
      runtime: facts.runtime,
      url: facts.url,
      ...(facts.metricsUrl ? { metrics_url: facts.metricsUrl } : {}),
      providers,
      proxy: {
        open: facts.proxy.open,
        client_tokens: facts.proxy.clientTokens,
        source: facts.proxy.source,
        ...(facts.proxy.open
          ? {}
          : { problem: facts.proxy.problem, opened_by: CLIENT_TOKENS_VARIABLE }),
      },
      admin: { on: facts.admin.on, console_url: facts.admin.consoleUrl },
      store: facts.store,
    })
  }
  const { proxy, admin, store } = facts
  const lines = [
    `keyline listening on ${facts.url} (${facts.runtime})`,
    ...PROVIDER_IDS.map((id) => `  ${providerLine(id, facts.providers[id])}`),
    proxy.open
      ? `  Proxy: open, ${proxy.clientTokens} client token${proxy.clientTokens === 1 ? '' : 's'} from ${proxy.source}`
      : proxy.problem === 'missing' || proxy.problem === null
        ? `  Proxy: closed, no client tokens (set ${CLIENT_TOKENS_VARIABLE} to open it)`
        : `  Proxy: closed, ${CLIENT_TOKENS_VARIABLE}${proxy.source ? ` (${proxy.source})` : ''} is not usable: ${proxy.problem} (see the warning below)`,
    admin.on
      ? `  Admin API and console: on, console at ${admin.consoleUrl}`
      : '  Admin API and console: off (set ADMIN_TOKEN to turn them on)',
    `  Shared store: ${STORE_WORDS[store.kind]}${store.location ? ` (${store.location})` : ''}`,
    ...(facts.metricsUrl ? [`  Metrics: ${facts.metricsUrl}`] : []),
  ]
  return lines.join('\n')
}

/**
 * The banner of a started server ({@link startupFacts}, {@link startupBanner}); should reading
 * the facts fail, the URL alone, so the start is always reported.
 */
export const startupReport = async (
  wiring: Parameters<typeof startupFacts>[0],
  env: EnvRecord,
  listening: Parameters<typeof startupFacts>[2],
  options: { tty: boolean }
): Promise<string> => {
  try {
    return startupBanner(await startupFacts(wiring, env, listening), options)
  } catch {
    const { runtime, url } = listening
    return options.tty
      ? `keyline listening on ${url} (${runtime})`
      : JSON.stringify({ level: 'info', msg: 'keyline listening', runtime, url })
  }
}

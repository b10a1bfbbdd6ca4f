import type { KeyStatus } from '../admin/index.ts'
import type { FyersTokenStatus } from '../providers/fyers/token-status.ts'
import { fingerprint } from '../secrets/fingerprint.ts'
import type { StoreSourceStatus } from '../secrets/stores/store-sources.ts'
import { type AdminClient, createAdminClient } from './admin-client.ts'
import { type CliCommand, type CliGlobals, parseCli, type RotateTarget, USAGE } from './args.ts'
import { CliError } from './cli-error.ts'
import { commandLine, withoutPassword } from './command-line.ts'
import { reachSentence } from './reach.ts'
import { nodeManualSteps, nodePlan, type RotateStep, workersPlan } from './rotate-plan.ts'
import { waitForStatus } from './wait-for-status.ts'
import { wranglerRunner } from './wrangler.ts'

/** What the CLI reads and writes, so it runs the same in a test. */
export interface CliIo {
  readonly env: Readonly<Record<string, string | undefined>>
  readonly stdin: NodeJS.ReadableStream & { isTTY?: boolean }
  readonly out: (line: string) => void
  readonly err: (line: string) => void
  /** @default globalThis.fetch */
  readonly fetch?: typeof fetch
}

/**
 * Reads the new secret from stdin (piped, never from argv): one line, trimmed. Refuses a
 * terminal, where the value would be echoed, and an empty or multi-line input.
 */
const readSecretFromStdin = async (
  stdin: NodeJS.ReadableStream & { isTTY?: boolean }
): Promise<string> => {
  if (stdin.isTTY) {
    throw new CliError(
      'Pipe the new secret on stdin, e.g. `pbpaste | keyline rotate anthropic`; it is never taken from the command line',
      2
    )
  }
  const chunks: Buffer[] = []
  for await (const chunk of stdin) chunks.push(Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk))
  const value = Buffer.concat(chunks).toString('utf8').trim()
  if (!value) throw new CliError('stdin is empty: pipe the new secret on stdin', 2)
  if (/[\r\n]/.test(value)) throw new CliError('stdin must hold the secret on one line', 2)
  return value
}

/** The Fyers token expiries of a status: one line each, no token. */
const fyersTokenLines = (token: FyersTokenStatus): string[] => {
  const { accessToken, refreshToken } = token
  return [
    `  access token expires: ${accessToken.expiresAt ?? 'unknown (not a JWT with an expiry)'}`,
    `  refresh token: ${
      refreshToken.expired
        ? `expired at ${refreshToken.expiresAt}: sign in again (keyline does not send it to Fyers)`
        : refreshToken.daysLeft === null
          ? 'expiry unknown'
          : `${refreshToken.daysLeft} days left (until ${refreshToken.expiresAt})`
    }`,
  ]
}

/** The secure stores of a status: a line each, and one for its last error as the API redacted it. */
const storeLines = (stores: readonly StoreSourceStatus[]): string[] => {
  if (stores.length === 0) return ['stores: none (no secret comes from a secure store)']
  const lines = [`stores: ${stores.length}`]
  for (const s of stores) {
    lines.push(
      `  ${s.variable} from ${s.source}` +
        (s.versionId ? ` (version ${s.versionId})` : s.stage ? ` (${s.stage})` : '') +
        (s.present ? '' : ', not present in the store') +
        `: fetched ${s.fetchedAt ?? 'never'}` +
        (s.nextRefreshAt ? `, next fetch ${s.nextRefreshAt}` : '')
    )
    if (s.lastError) {
      lines.push(
        `    error:  ${s.consecutiveFailures} failed fetch${s.consecutiveFailures === 1 ? '' : 'es'} in a row` +
          `${s.stale ? ' (an older value is served)' : ''}, last at ${s.lastErrorAt}: ${s.lastError}`
      )
    }
  }
  return lines
}

/**
 * The per-client quotas of a status: where they come from, then a line per client with each
 * limit's use in its current window and today's refusals, and each issue.
 */
const quotaLines = (limits: NonNullable<KeyStatus['limits']>): string[] => {
  if (limits.closed) return [`quotas: every client refused: ${limits.closed}`]
  if (limits.source === null) return ['quotas: none (every client is unlimited)']
  const lines = [
    `quotas: from ${limits.source}, counted in ${limits.engine}, fail ${limits.fail} when it is down`,
  ]
  for (const [name, client] of Object.entries(limits.clients)) {
    const counts = client.counts.map((count) =>
      count.kind === 'refused'
        ? `refused today ${count.used}`
        : `${count.kind} ${count.used}/${count.limit} until ${new Date(count.resetAt).toISOString()}`
    )
    const why = client.blocked ? `refused: ${client.blocked}` : client.error
    lines.push(`  ${name}: ${[...counts, ...(why ? [why] : [])].join(', ') || 'no limits'}`)
  }
  for (const issue of limits.issues) lines.push(`  note: ${issue}`)
  return lines
}

/** A short human summary of a status: one block per provider, fingerprints only. */
const formatStatus = (status: KeyStatus): string => {
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
    if (p.token) lines.push(...fyersTokenLines(p.token))
    for (const issue of p.issues)
      lines.push(`  ${issue.blocking ? 'error' : 'note'}:    ${issue.message}`)
  }
  lines.push(...storeLines(status.stores ?? []))
  const clients = status.clients
  if (clients) {
    const names = Object.entries(clients.names)
      .map(([name, count]) => `${name}: ${count}`)
      .join(', ')
    lines.push(
      clients.configured
        ? `clients: ${clients.count} token${clients.count === 1 ? '' : 's'} (${names}) from ${clients.source}`
        : `clients: none accepted (${clients.problem}): the proxy is closed`
    )
  }
  if (status.limits) lines.push(...quotaLines(status.limits))
  return lines.join('\n')
}

type Rotate = Extract<CliCommand, { command: 'rotate' }> & CliGlobals

const adminClient = (url: string | undefined, io: CliIo): AdminClient => {
  const base = url ?? io.env.KEYLINE_URL
  if (!base) throw new CliError('No deployment URL: pass --url or set KEYLINE_URL', 2)
  const token = io.env.KEYLINE_ADMIN_TOKEN || io.env.ADMIN_TOKEN
  if (!token) throw new CliError('No admin token: set KEYLINE_ADMIN_TOKEN (or ADMIN_TOKEN)', 2)
  return createAdminClient({ url: base, token, fetch: io.fetch })
}

const targetOf = async (command: Rotate, client: AdminClient): Promise<RotateTarget> => {
  if (command.target) return command.target
  const { runtime } = await client.status()
  return runtime === 'workerd' ? 'workers' : 'node'
}

const planOf = (command: Rotate, target: RotateTarget): RotateStep[] | undefined => {
  if (target === 'workers') {
    return workersPlan(
      command.provider,
      wranglerRunner({ command: command.wrangler, extraArgs: command.wranglerArgs })
    )
  }
  if (command.currentFile && command.nextFile) {
    return nodePlan(command.provider, { current: command.currentFile, next: command.nextFile })
  }
  return undefined
}

const rotate = async (command: Rotate, argv: readonly string[], io: CliIo): Promise<number> => {
  const client = adminClient(command.url, io)
  const target = await targetOf(command, client)
  const steps = planOf(command, target)
  if (!steps) {
    io.out(nodeManualSteps(command.provider, command.url))
    io.out('Nothing was changed.')
    return 0
  }
  if (command.dryRun) {
    io.out(`Dry run of: ${commandLine(argv)}`)
    io.out(
      `Plan to rotate ${command.provider} on ${withoutPassword(client.url)} (${target}); nothing changes:`
    )
    for (const [i, step] of steps.entries()) io.out(`  ${i + 1}. ${step.title}`)
    io.out(
      `To run it, pipe the new value in: printf %s "$NEW_VALUE" | ${commandLine(argv, ['--dry-run'])}`
    )
    return 0
  }
  const secret = await readSecretFromStdin(io.stdin)
  const context = {
    client,
    provider: command.provider,
    secret,
    expected: fingerprint(secret),
    wait: { timeoutMs: command.timeoutMs, intervalMs: command.intervalMs },
  }
  io.out(
    `Rotating ${command.provider} on ${withoutPassword(client.url)} (${target}) to ${context.expected}`
  )
  for (const [i, step] of steps.entries()) {
    io.out(`[${i + 1}/${steps.length}] ${step.title}`)
    try {
      io.out(`      ok: ${await step.run(context)}`)
    } catch (err) {
      const message =
        err instanceof CliError ? err.message : `unexpected error: ${(err as Error).message}`
      io.err(`      FAILED: ${message}`)
      io.err(`Rotation stopped at step ${i + 1}. ${step.onFailure}`)
      return 1
    }
  }
  io.out(`Rotated ${command.provider}: current ${context.expected}`)
  return 0
}

type Fyers = Extract<CliCommand, { command: 'fyers' }> & CliGlobals

/** The Fyers access token's fingerprint and source in a status, to see it change. */
const fyersToken = (status: KeyStatus): string =>
  `${status.providers.fyers.current?.fingerprint ?? 'none'} from ${status.providers.fyers.source ?? 'nowhere'}`

/**
 * `fyers login`: prints the sign-in URL (to open in a browser), then polls the status until
 * the Fyers access token is one a sign-in brought. `fyers refresh`: refreshes it now.
 */
const fyers = async (command: Fyers, io: CliIo): Promise<number> => {
  const client = adminClient(command.url, io)
  if (command.action === 'refresh') {
    const result = await client.fyersRefresh()
    io.out(
      `Refreshed the Fyers access token: now ${result.token ?? 'unknown'}${result.by === 'another' ? ' (another instance refreshed it)' : ''}`
    )
    return 0
  }
  const before = fyersToken(await client.status())
  const { url, expiresAt } = await client.fyersLogin()
  io.out(`Open this URL in a browser and sign in to Fyers (it is valid until ${expiresAt}):`)
  io.out(url)
  io.out('Waiting for keyline to receive the new token…')
  const detail = await waitForStatus(
    client,
    'fyers',
    (status, all) => {
      const now = fyersToken(all)
      return status.source === 'fyers-sign-in' && now !== before
        ? { done: true, detail: now }
        : { done: false, waiting: 'the sign-in to complete (the Fyers access token to change)' }
    },
    { timeoutMs: command.timeoutMs, intervalMs: command.intervalMs }
  )
  io.out(`Signed in: the Fyers access token is ${detail}`)
  return 0
}

const execute = async (argv: readonly string[], io: CliIo): Promise<number> => {
  const command = parseCli(argv)
  if (command.command === 'help') {
    io.out(USAGE)
    return 0
  }
  if (command.command === 'rotate') return rotate(command, argv, io)
  if (command.command === 'fyers') return fyers(command, io)
  const client = adminClient(command.url, io)
  if (command.command === 'promote') {
    const result = await client.promote(command.provider)
    const { promoted } = result
    io.out(
      command.json
        ? JSON.stringify(result, null, 2)
        : `Promoted ${promoted.provider} ${promoted.credential}: current ${promoted.fingerprint}` +
            (promoted.replaced ? ` (was ${promoted.replaced})` : '') +
            `.\n${result.warning ? `Warning: ${result.warning}.` : reachSentence('The promotion', result.runtime, promoted.propagated)}` +
            `\n${formatStatus(result)}`
    )
    return 0
  }
  if (command.command === 'reload') {
    const result = await client.reload()
    const { propagated, epoch } = result.reload
    io.out(
      command.json
        ? JSON.stringify(result, null, 2)
        : `${result.warning ? `Warning: ${result.warning}.` : reachSentence('The reload', result.runtime, propagated, epoch)}\n${formatStatus(result)}`
    )
    return 0
  }
  const body = await client.status()
  io.out(command.json ? JSON.stringify(body, null, 2) : formatStatus(body))
  return 0
}

/** Runs the CLI; resolves to its exit code (0 ok, 1 failed, 2 usage) and never throws. */
export const runCli = async (argv: readonly string[], io: CliIo): Promise<number> => {
  try {
    return await execute(argv, io)
  } catch (err) {
    if (err instanceof CliError) {
      io.err(`keyline: ${err.message}`)
      return err.exitCode
    }
    io.err(`keyline: unexpected error: ${(err as Error).message}`)
    return 1
  }
}

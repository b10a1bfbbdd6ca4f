import { parseArgs } from 'node:util'
import { PROVIDER_IDS, type ProviderId } from '../catalog/providers.ts'
import { CliError } from './cli-error.ts'

/** Where a deployment keeps its secrets, which decides how `rotate` stages and promotes. */
export type RotateTarget = 'workers' | 'node'

/** The parsed command line. */
export type CliCommand =
  | { readonly command: 'help' }
  | { readonly command: 'status'; readonly json: boolean }
  | { readonly command: 'reload'; readonly json: boolean }
  | { readonly command: 'promote'; readonly provider: ProviderId; readonly json: boolean }
  | {
      readonly command: 'fyers'
      readonly action: 'login' | 'refresh'
      readonly timeoutMs: number
      readonly intervalMs: number
    }
  | {
      readonly command: 'rotate'
      readonly provider: ProviderId
      readonly target: RotateTarget | undefined
      readonly dryRun: boolean
      readonly currentFile: string | undefined
      readonly nextFile: string | undefined
      readonly wrangler: string
      readonly wranglerArgs: readonly string[]
      readonly timeoutMs: number
      readonly intervalMs: number
    }

/** Options every command shares. */
export interface CliGlobals {
  readonly url: string | undefined
}

/** The usage text. */
export const USAGE = `Usage: keyline <command> [options]

Commands:
  status                     Show every provider's key status (fingerprints only)
  reload                     Re-read every secret source and show the new status
  promote anthropic|fyers    Make the staged next key current now (it must validate)
  rotate anthropic|fyers     Rotate a provider's key; the new value is read from stdin
  fyers login                Print the Fyers sign-in URL, wait until keyline has the new token
  fyers refresh              Refresh the Fyers access token now

Options:
  --url <url>                Deployment URL (default: $KEYLINE_URL)
  --json                     status, reload, promote: print the JSON body
  --target workers|node      rotate: how secrets are stored (default: from the deployment's runtime)
  --dry-run                  rotate: print the plan and change nothing
  --current-file <path>      rotate (node): the file named by <NAME>_FILE
  --next-file <path>         rotate (node): the file named by <NAME>_NEW_FILE
  --name <worker>            rotate (workers): passed to wrangler as --name
  --config <path>            rotate (workers): passed to wrangler as --config
  --wrangler-env <env>       rotate (workers): passed to wrangler as --env
  --wrangler <command>       rotate (workers): the wrangler to run (default: wrangler)
  --timeout <seconds>        rotate, fyers login: how long to wait for each change (default: 120;
                             fyers login: 600, the sign-in state's lifetime)
  --interval <seconds>       rotate, fyers login: how often to poll the status (default: 2)

The admin token is read from $KEYLINE_ADMIN_TOKEN (or $ADMIN_TOKEN), never from the command line.
`

const seconds = (raw: string | undefined, name: string, fallback: number): number => {
  if (raw === undefined) return fallback * 1000
  const value = Number(raw)
  if (!Number.isFinite(value) || value <= 0)
    throw new CliError(`--${name} must be a positive number of seconds`, 2)
  return value * 1000
}

/** Parses argv (without `node` and the script); throws a usage {@link CliError} when wrong. */
export const parseCli = (argv: readonly string[]): CliCommand & CliGlobals => {
  let parsed: ReturnType<
    typeof parseArgs<{ options: typeof OPTIONS; allowPositionals: true; strict: true }>
  >
  try {
    parsed = parseArgs({ args: [...argv], options: OPTIONS, allowPositionals: true, strict: true })
  } catch (err) {
    throw new CliError(`${(err as Error).message}\n\n${USAGE}`, 2)
  }
  const { values, positionals } = parsed
  const url = values.url
  const [command, ...rest] = positionals
  if (values.help || command === undefined || command === 'help') return { command: 'help', url }
  if (command === 'status' || command === 'reload') {
    if (rest.length) throw new CliError(`${command} takes no arguments`, 2)
    return { command, json: values.json ?? false, url }
  }
  if (command === 'promote') {
    const [provider, ...extra] = rest
    if (!provider || !PROVIDER_IDS.includes(provider as ProviderId) || extra.length) {
      throw new CliError(`promote needs one provider: ${PROVIDER_IDS.join(' or ')}`, 2)
    }
    return { command, provider: provider as ProviderId, json: values.json ?? false, url }
  }
  if (command === 'fyers') {
    const [action, ...extra] = rest
    if ((action !== 'login' && action !== 'refresh') || extra.length) {
      throw new CliError('fyers needs one action: login or refresh', 2)
    }
    return {
      command,
      action,
      timeoutMs: seconds(values.timeout, 'timeout', 600),
      intervalMs: seconds(values.interval, 'interval', 2),
      url,
    }
  }
  if (command !== 'rotate') throw new CliError(`Unknown command: ${command}\n\n${USAGE}`, 2)
  const [provider, ...extra] = rest
  if (!provider || !PROVIDER_IDS.includes(provider as ProviderId) || extra.length) {
    throw new CliError(`rotate needs one provider: ${PROVIDER_IDS.join(' or ')}`, 2)
  }
  const target = values.target
  if (target !== undefined && target !== 'workers' && target !== 'node') {
    throw new CliError('--target must be workers or node', 2)
  }
  if ((values['current-file'] === undefined) !== (values['next-file'] === undefined)) {
    throw new CliError('--current-file and --next-file go together', 2)
  }
  const wranglerArgs: string[] = []
  if (values.name) wranglerArgs.push('--name', values.name)
  if (values.config) wranglerArgs.push('--config', values.config)
  if (values['wrangler-env']) wranglerArgs.push('--env', values['wrangler-env'])
  return {
    command: 'rotate',
    provider: provider as ProviderId,
    target,
    dryRun: values['dry-run'] ?? false,
    currentFile: values['current-file'],
    nextFile: values['next-file'],
    wrangler: values.wrangler ?? 'wrangler',
    wranglerArgs,
    timeoutMs: seconds(values.timeout, 'timeout', 120),
    intervalMs: seconds(values.interval, 'interval', 2),
    url,
  }
}

const OPTIONS = {
  url: { type: 'string' },
  json: { type: 'boolean' },
  target: { type: 'string' },
  'dry-run': { type: 'boolean' },
  'current-file': { type: 'string' },
  'next-file': { type: 'string' },
  name: { type: 'string' },
  config: { type: 'string' },
  'wrangler-env': { type: 'string' },
  wrangler: { type: 'string' },
  timeout: { type: 'string' },
  interval: { type: 'string' },
  help: { type: 'boolean', short: 'h' },
} as const

import { fingerprint } from '../secrets/fingerprint.ts'
import { type AdminClient, createAdminClient } from './admin-client.ts'
import { type CliCommand, type CliGlobals, parseCli, type RotateTarget, USAGE } from './args.ts'
import { CliError } from './cli-error.ts'
import { formatStatus } from './print-status.ts'
import { readSecretFromStdin } from './read-stdin.ts'
import { nodeManualSteps, nodePlan, workersPlan } from './rotate-plan.ts'
import type { RotateStep } from './rotate-step.ts'
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

const rotate = async (command: Rotate, io: CliIo): Promise<number> => {
  const client = adminClient(command.url, io)
  const target = await targetOf(command, client)
  const steps = planOf(command, target)
  if (!steps) {
    io.out(nodeManualSteps(command.provider, client.url))
    io.out('Nothing was changed.')
    return 0
  }
  if (command.dryRun) {
    io.out(
      `Plan to rotate ${command.provider} on ${client.url} (${target}); dry run, nothing changes:`
    )
    for (const [i, step] of steps.entries()) io.out(`  ${i + 1}. ${step.title}`)
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
  io.out(`Rotating ${command.provider} on ${client.url} (${target}) to ${context.expected}`)
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

const execute = async (argv: readonly string[], io: CliIo): Promise<number> => {
  const command = parseCli(argv)
  if (command.command === 'help') {
    io.out(USAGE)
    return 0
  }
  if (command.command === 'rotate') return rotate(command, io)
  const client = adminClient(command.url, io)
  const body = command.command === 'status' ? await client.status() : await client.reload()
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

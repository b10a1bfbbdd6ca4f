import { spawn } from 'node:child_process'
import { CliError } from './cli-error.ts'

/** Runs one wrangler command; `input` is written to its stdin (the secret, never an argument). */
export type WranglerRunner = (args: readonly string[], input?: string) => Promise<void>

/** Options of {@link wranglerRunner}. */
export interface WranglerRunnerOptions {
  /** The command to run, found on PATH. @default 'wrangler' */
  command?: string
  /** Arguments added to every call, e.g. `--name keyline --env production`. */
  extraArgs?: readonly string[]
}

const tail = (text: string): string => text.trim().split('\n').slice(-5).join('\n')

/**
 * Spawns wrangler with a piped (non-interactive) stdin, so `secret put` reads the value from it
 * and `secret delete` confirms on its own. Output is kept, and shown only when it fails.
 */
export const wranglerRunner = (options: WranglerRunnerOptions = {}): WranglerRunner => {
  const command = options.command ?? 'wrangler'
  const extra = options.extraArgs ?? []
  return (args, input) =>
    new Promise<void>((resolve, reject) => {
      const all = [...args, ...extra]
      const shown = `${command} ${all.join(' ')}`
      const child = spawn(command, all, { stdio: ['pipe', 'pipe', 'pipe'] })
      let output = ''
      child.stdout.on('data', (chunk: Buffer) => {
        output += chunk.toString('utf8')
      })
      child.stderr.on('data', (chunk: Buffer) => {
        output += chunk.toString('utf8')
      })
      child.on('error', (err) => reject(new CliError(`${shown} could not start: ${err.message}`)))
      child.on('close', (code) => {
        if (code === 0) resolve()
        else reject(new CliError(`${shown} exited with ${code}:\n${tail(output)}`))
      })
      child.stdin.on('error', () => {})
      child.stdin.end(input ?? '')
    })
}

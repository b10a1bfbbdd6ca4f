import { spawn } from 'node:child_process'
import { fileURLToPath } from 'node:url'

const MAIN = fileURLToPath(new URL('../../../src/cli/main.ts', import.meta.url))

/** What one CLI run printed and its exit code. */
export interface CliRun {
  code: number | null
  stdout: string
  stderr: string
}

/** Runs `node src/cli/main.ts …args` with exactly `env` (PATH included) and `stdin` piped in. */
export const runCli = (args: string[], env: Record<string, string>, stdin = ''): Promise<CliRun> =>
  new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [MAIN, ...args], { env, stdio: ['pipe', 'pipe', 'pipe'] })
    let stdout = ''
    let stderr = ''
    child.stdout.on('data', (chunk: Buffer) => {
      stdout += chunk.toString('utf8')
    })
    child.stderr.on('data', (chunk: Buffer) => {
      stderr += chunk.toString('utf8')
    })
    child.on('error', reject)
    child.on('close', (code) => resolve({ code, stdout, stderr }))
    child.stdin.end(stdin)
  })

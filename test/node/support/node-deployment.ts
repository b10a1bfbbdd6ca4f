import { type ChildProcess, spawn } from 'node:child_process'
import { fileURLToPath } from 'node:url'

/** A keyline Node deployment started as a child process for an end-to-end test. */
export interface NodeDeployment {
  readonly url: string
  readonly output: () => string
  stop(): Promise<void>
}

const NODE = process.execPath
const SERVER = fileURLToPath(new URL('../../../src/entries/node.ts', import.meta.url))

/** Starts the deployment with exactly `env` (plus PATH), on 127.0.0.1 and a free port. */
export const startNodeDeployment = (env: Record<string, string>): Promise<NodeDeployment> =>
  new Promise((resolve, reject) => {
    const child: ChildProcess = spawn(NODE, [SERVER], {
      env: { PATH: process.env.PATH ?? '', HOST: '127.0.0.1', PORT: '0', ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    })
    let output = ''
    const timer = setTimeout(() => {
      child.kill('SIGKILL')
      reject(new Error(`deployment did not start:\n${output}`))
    }, 20_000)
    const stop = (): Promise<void> =>
      new Promise((done) => {
        if (child.exitCode !== null) return done()
        child.once('exit', () => done())
        child.kill('SIGTERM')
      })
    child.stdout?.on('data', (chunk: Buffer) => {
      output += chunk.toString('utf8')
      const match = /"msg":"keyline listening".*?"url":"([^"]+)"/.exec(output)
      if (match?.[1]) {
        clearTimeout(timer)
        resolve({ url: match[1], output: () => output, stop })
      }
    })
    child.stderr?.on('data', (chunk: Buffer) => {
      output += chunk.toString('utf8')
    })
    child.once('exit', (code) => {
      clearTimeout(timer)
      reject(new Error(`deployment exited with ${code}:\n${output}`))
    })
  })

import { type ChildProcess, spawn } from 'node:child_process'
import { copyFile, mkdtemp, rm, symlink, writeFile } from 'node:fs/promises'
import { createServer } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { exited, trackGroup } from '../support/process-group.ts'
import { REPO_ROOT } from './harness/runtimes.ts'

/**
 * A newcomer's first hour, as the README tells it, in a fresh "clone" (the repository's
 * package.json, deno.json and src/, its installed node_modules) with the machine's own Node
 * and npm first on PATH: `npm start` and `npm run start:deno` load `.env` when there is one
 * and start without one; a busy port ends in one sentence naming `PORT`; and the direct
 * commands the README gives for process managers let `SIGTERM` reach the server, which
 * drains and exits 0.
 */
const CLIENT_TOKEN = `first-hour-${crypto.randomUUID()}`
const SYSTEM_PATH = '/usr/bin:/bin'
let clone: string

beforeAll(async () => {
  clone = await mkdtemp(join(tmpdir(), 'keyline-clone-'))
  for (const file of ['package.json', 'deno.json']) {
    await copyFile(join(REPO_ROOT, file), join(clone, file))
  }
  await symlink(join(REPO_ROOT, 'src'), join(clone, 'src'))
  await symlink(join(REPO_ROOT, 'node_modules'), join(clone, 'node_modules'))
})
afterAll(async () => {
  await rm(clone, { recursive: true, force: true })
})

interface Started {
  child: ChildProcess & { pid: number }
  output: () => string
  stop: () => Promise<void>
}

const start = (command: string, args: string[], env: Record<string, string> = {}): Started => {
  const child = spawn(command, args, {
    cwd: clone,
    env: {
      PATH: SYSTEM_PATH,
      HOME: process.env.HOME ?? '/tmp',
      DENO_NO_UPDATE_CHECK: '1',
      ...(process.env.DENO_DIR ? { DENO_DIR: process.env.DENO_DIR } : {}),
      ...env,
    },
    detached: true,
    stdio: ['ignore', 'pipe', 'pipe'],
  }) as ChildProcess & { pid: number }
  let output = ''
  child.stdout?.on('data', (chunk: Buffer) => {
    output += chunk.toString('utf8')
  })
  child.stderr?.on('data', (chunk: Buffer) => {
    output += chunk.toString('utf8')
  })
  return { child, output: () => output, stop: trackGroup(child) }
}

const listening = async (started: Started): Promise<string> => {
  await expect
    .poll(() => started.output(), { timeout: 30_000, interval: 50 })
    .toMatch(/"msg":"keyline listening"/)
  return /"url":"([^"]+)"/.exec(started.output())?.[1] as string
}

const ENV_FILE = (port: number | string) =>
  `# copied from .env.example\nHOST=127.0.0.1\nPORT=${port}\nKEYLINE_CLIENT_TOKENS=${CLIENT_TOKEN}\n`

/** With the token from `.env`, a provider route answers 503 (no key); without it, 401. */
const tokenWasLoaded = async (url: string): Promise<boolean> => {
  const res = await fetch(`${url}/v1/models`, {
    headers: { authorization: `Bearer ${CLIENT_TOKEN}` },
  })
  await res.body?.cancel()
  return res.status === 503
}

const busyPort = async (): Promise<{ port: number; close: () => void }> => {
  const server = createServer()
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  return { port: (server.address() as { port: number }).port, close: () => server.close() }
}

const RUNTIMES = [
  {
    name: 'node',
    script: 'start',
    direct: ['node', '--env-file-if-exists=.env', 'src/entries/node.ts'],
  },
  {
    name: 'deno',
    script: 'start:deno',
    direct: [
      'deno',
      'run',
      '--allow-net',
      '--allow-env',
      '--allow-read',
      '--env-file=.env',
      'src/entries/deno.ts',
    ],
  },
] as const

describe.each(RUNTIMES)('the first hour [$name]', ({ script, direct }) => {
  const npm = (env: Record<string, string> = {}) => start('/usr/bin/npm', ['run', script], env)
  /** The direct command, with node_modules/.bin first (where `npm install` put Node 22 and Deno). */
  const directly = (env: Record<string, string> = {}) =>
    start(direct[0], direct.slice(1), {
      PATH: `${join(clone, 'node_modules', '.bin')}:${SYSTEM_PATH}`,
      ...env,
    })

  it(`npm run ${script} loads .env`, async () => {
    await writeFile(join(clone, '.env'), ENV_FILE(0))
    const server = npm()
    try {
      expect(await tokenWasLoaded(await listening(server))).toBe(true)
    } finally {
      await server.stop()
      await rm(join(clone, '.env'), { force: true })
    }
  }, 60_000)

  it(`npm run ${script} starts without a .env`, async () => {
    const server = npm({ PORT: '0' })
    try {
      expect(await tokenWasLoaded(await listening(server))).toBe(false)
    } finally {
      await server.stop()
    }
  }, 60_000)

  it('a busy port ends with one sentence naming PORT, and a non-zero exit', async () => {
    const busy = await busyPort()
    const server = directly({ PORT: String(busy.port) })
    try {
      await exited(server.child)
      expect(server.child.exitCode).toBe(1)
      const lines = server
        .output()
        .split('\n')
        // Without a .env, Node and Deno each print a note saying so first (not an error).
        .filter((line) => line.trim() && !line.includes("'.env'") && !line.startsWith('.env '))
      expect(lines).toEqual([
        `keyline cannot start: port ${busy.port} is already in use on 127.0.0.1; set PORT to a free port (e.g. PORT=${busy.port + 1}).`,
      ])
    } finally {
      busy.close()
      await server.stop()
    }
  }, 60_000)

  it(`SIGTERM to the direct command (${direct.join(' ')}) drains and exits 0`, async () => {
    await writeFile(join(clone, '.env'), ENV_FILE(0))
    const server = directly()
    try {
      const url = await listening(server)
      expect(await tokenWasLoaded(url)).toBe(true)
      // The signal a process manager sends: to the server's own pid, not to a group.
      process.kill(server.child.pid, 'SIGTERM')
      await exited(server.child)
      expect(server.child.exitCode).toBe(0)
      expect(server.output()).toContain('"msg":"draining","signal":"SIGTERM"')
    } finally {
      await server.stop()
      await rm(join(clone, '.env'), { force: true })
    }
  }, 60_000)
})

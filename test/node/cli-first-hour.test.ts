import { execFileSync, spawn } from 'node:child_process'
import { existsSync } from 'node:fs'
import { mkdtemp, rm } from 'node:fs/promises'
import { createServer as createHttpServer } from 'node:http'
import { createServer as createHttpsServer } from 'node:https'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest'
import { stubControl } from '../stubs/control.ts'
import { freePort } from '../support/free-port.ts'
import { randomValue } from '../unit/admin-harness.ts'
import { type NodeDeployment, startNodeDeployment } from './support/node-deployment.ts'
import { runCli } from './support/run-cli.ts'

const ROOT = fileURLToPath(new URL('../../', import.meta.url))
/** The machine's own Node (20 here), as a fresh clone's shell has it on PATH. */
const SYSTEM_NODE = '/usr/bin/node'
const SYSTEM_PATH = '/usr/bin:/bin'
const hasSystemNode = existsSync(SYSTEM_NODE) && existsSync('/usr/bin/npm')

const run = (
  command: string,
  args: string[],
  env: Record<string, string>
): Promise<{ code: number | null; stdout: string; stderr: string }> =>
  new Promise((resolve, reject) => {
    const child = spawn(command, args, { cwd: ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] })
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
  })

/** The lines the CLI wrote to stderr, npm's own engine warnings left out. */
const errorLines = (stderr: string): string[] =>
  stderr.split('\n').filter((line) => line.trim() && !line.startsWith('npm warn'))

describe.runIf(hasSystemNode)('the CLI on a fresh clone, with the machine Node 20 on PATH', () => {
  const env = { PATH: SYSTEM_PATH, HOME: process.env.HOME ?? '/tmp' }

  it('the system node is older than 22 (or this test proves nothing)', () => {
    const version = execFileSync(SYSTEM_NODE, ['--version'], { encoding: 'utf8' })
    expect(Number(/^v(\d+)/.exec(version)?.[1])).toBeLessThan(22)
  })

  it('npx keyline --help', async () => {
    const result = await run('/usr/bin/npx', ['keyline', '--help'], env)
    expect(result.code).toBe(0)
    expect(result.stdout).toContain('Usage: keyline <command>')
    expect(result.stdout).toContain('promote anthropic|fyers')
  }, 60_000)

  it('npm run cli -- --help', async () => {
    const result = await run('/usr/bin/npm', ['run', '-s', 'cli', '--', '--help'], env)
    expect(result.code).toBe(0)
    expect(result.stdout).toContain('Usage: keyline <command>')
  }, 60_000)

  it('the bin shim itself, run by Node 20, passes the exit code on', async () => {
    const result = await run(SYSTEM_NODE, [join(ROOT, 'bin/keyline.js'), 'status'], env)
    expect(result.code).toBe(2)
    expect(errorLines(result.stderr)).toEqual([
      'keyline: No deployment URL: pass --url or set KEYLINE_URL',
    ])
  })
})

describe('a failed CLI call says why, in one sentence', { timeout: 30_000 }, () => {
  const token = randomValue('admin', 32)
  let deployment: NodeDeployment
  let dir: string

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'keyline-cli-hour-'))
    deployment = await startNodeDeployment({
      ADMIN_TOKEN: token,
      KEYLINE_CLIENT_TOKENS: randomValue('client', 32),
    })
  })
  afterAll(async () => {
    await deployment?.stop()
    await rm(dir, { recursive: true, force: true })
  })

  const status = (url: string, adminToken = token) =>
    runCli(['status', '--url', url], {
      PATH: process.env.PATH ?? '',
      KEYLINE_ADMIN_TOKEN: adminToken,
    })

  const oneSentence = (stderr: string): string => {
    const lines = errorLines(stderr)
    expect(lines).toHaveLength(1)
    expect(stderr).not.toMatch(/\n\s+at /)
    return lines[0] as string
  }

  it('connection refused', async () => {
    const port = await freePort()
    const result = await status(`http://127.0.0.1:${port}`)
    expect(result.code).toBe(1)
    expect(oneSentence(result.stderr)).toBe(
      `keyline: Cannot connect to 127.0.0.1:${port}: connection refused (is keyline running there, on that port?)`
    )
  })

  it('TLS: https:// to a plain HTTP server', async () => {
    const server = createHttpServer((_, res) => res.end('{}'))
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
    const { port } = server.address() as { port: number }
    try {
      const result = await status(`https://127.0.0.1:${port}`)
      expect(result.code).toBe(1)
      expect(oneSentence(result.stderr)).toContain(
        `TLS to 127.0.0.1:${port} failed: the server does not speak HTTPS`
      )
    } finally {
      server.close()
    }
  })

  it.runIf(existsSync('/usr/bin/openssl'))(
    'TLS: a certificate the machine does not trust',
    async () => {
      const key = join(dir, 'key.pem')
      const cert = join(dir, 'cert.pem')
      execFileSync(
        '/usr/bin/openssl',
        [
          'req',
          '-x509',
          '-newkey',
          'rsa:2048',
          '-nodes',
          '-keyout',
          key,
          '-out',
          cert,
          '-days',
          '1',
          '-subj',
          '/CN=127.0.0.1',
        ],
        { stdio: 'ignore' }
      )
      const { readFileSync } = await import('node:fs')
      const server = createHttpsServer(
        { key: readFileSync(key), cert: readFileSync(cert) },
        (_, res) => res.end('{}')
      )
      await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
      const { port } = server.address() as { port: number }
      try {
        const result = await status(`https://127.0.0.1:${port}`)
        expect(result.code).toBe(1)
        expect(oneSentence(result.stderr)).toMatch(
          /TLS to 127\.0\.0\.1:\d+ failed: the server's certificate is not trusted \(DEPTH_ZERO_SELF_SIGNED_CERT\)/
        )
      } finally {
        server.close()
      }
    }
  )

  it('401: a wrong admin token', async () => {
    const result = await status(deployment.url, randomValue('wrong', 32))
    expect(result.code).toBe(1)
    expect(oneSentence(result.stderr)).toBe(
      'keyline: The admin token was refused (401): set KEYLINE_ADMIN_TOKEN to the ADMIN_TOKEN (or ADMIN_TOKEN_NEW) of the deployment'
    )
  })

  it('429: too many failed attempts', async () => {
    let last = await status(deployment.url, randomValue('wrong', 32))
    for (let i = 0; i < 12 && !last.stderr.includes('(429)'); i++) {
      last = await status(deployment.url, randomValue('wrong', 32))
    }
    expect(last.code).toBe(1)
    expect(oneSentence(last.stderr)).toMatch(
      /^keyline: Too many failed admin calls from this address \(429\): wait \d+ s, and check KEYLINE_ADMIN_TOKEN$/
    )
  })
})

describe('keyline promote', { timeout: 30_000 }, () => {
  it('makes the staged next key current, and says which', async () => {
    const upstream = await stubControl(inject('stubs').anthropic).session()
    const [current, next] = [randomValue('sk-ant-old', 40), randomValue('sk-ant-new', 40)]
    await upstream.keys({ replace: [current, next] })
    const token = randomValue('admin', 32)
    const deployment = await startNodeDeployment({
      ADMIN_TOKEN: token,
      KEYLINE_CLIENT_TOKENS: randomValue('client', 32),
      ANTHROPIC_API_KEY: current,
      ANTHROPIC_API_KEY_NEW: next,
      ANTHROPIC_BASE_URL: upstream.url,
    })
    try {
      const env = { PATH: process.env.PATH ?? '', KEYLINE_ADMIN_TOKEN: token }
      const result = await runCli(['promote', 'anthropic', '--url', deployment.url], env)
      expect(result.stderr).toBe('')
      expect(result.code).toBe(0)
      expect(result.stdout).toContain(
        `Promoted anthropic apiKey: current …${next.slice(-4)} (was …${current.slice(-4)})`
      )
      expect(result.stdout).not.toContain(next)
      const after = await runCli(['status', '--json', '--url', deployment.url], env)
      const body = JSON.parse(after.stdout) as {
        providers: { anthropic: { current: { fingerprint: string } } }
      }
      expect(body.providers.anthropic.current.fingerprint).toBe(`…${next.slice(-4)}`)
      const usage = await runCli(['promote'], env)
      expect(usage.code).toBe(2)
      expect(usage.stderr).toContain('promote needs one provider: anthropic or fyers')
    } finally {
      await deployment.stop()
    }
  })
})

import { PassThrough } from 'node:stream'
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest'
import { runCli as runCliInProcess } from '../../src/cli/run.ts'
import { stubControl } from '../stubs/control.ts'
import { randomValue } from '../unit/admin-harness.ts'
import { type NodeDeployment, startNodeDeployment } from './support/node-deployment.ts'
import { runCli } from './support/run-cli.ts'

/** A stand-in admin API: every call answers `body` (a real status, reshaped by the test). */
const stubAdmin = async (argv: string[], body: unknown) => {
  const out: string[] = []
  const err: string[] = []
  const code = await runCliInProcess([...argv, '--url', 'http://keyline.test'], {
    env: { KEYLINE_ADMIN_TOKEN: randomValue('admin', 32) },
    stdin: new PassThrough(),
    out: (line) => out.push(line),
    err: (line) => err.push(line),
    fetch: (async () =>
      new Response(JSON.stringify(body), {
        headers: { 'content-type': 'application/json' },
      })) as typeof fetch,
  })
  return { code, stdout: out.join('\n'), stderr: err.join('\n') }
}

describe('the CLI says how far a reload or promotion reached', { timeout: 30_000 }, () => {
  const token = randomValue('admin', 32)
  let deployment: NodeDeployment
  let env: Record<string, string>
  let current: string
  let next: string

  beforeAll(async () => {
    const upstream = await stubControl(inject('stubs').anthropic).session()
    current = randomValue('old', 40)
    next = randomValue('new', 40)
    await upstream.keys({ replace: [current, next] })
    // One Node process, no KEYLINE_REDIS_URL: nothing carries a change to another instance.
    deployment = await startNodeDeployment({
      ADMIN_TOKEN: token,
      KEYLINE_CLIENT_TOKENS: randomValue('client', 32),
      ANTHROPIC_API_KEY: current,
      ANTHROPIC_API_KEY_NEW: next,
      ANTHROPIC_BASE_URL: upstream.url,
    })
    env = { PATH: process.env.PATH ?? '', KEYLINE_ADMIN_TOKEN: token, KEYLINE_URL: deployment.url }
  })
  afterAll(async () => {
    await deployment?.stop()
  })

  it('reload on one Node process without a shared store: this instance only', async () => {
    const json = await runCli(['reload', '--json'], env)
    expect(JSON.parse(json.stdout).reload.propagated).toBe(false)
    const run = await runCli(['reload'], env)
    expect(run.stderr).toBe('')
    expect(run.code).toBe(0)
    expect(run.stdout.split('\n')[0]).toBe(
      'The reload reached this instance only: no shared store carries it to other instances (set KEYLINE_REDIS_URL for that).'
    )
    expect(run.stdout).not.toMatch(/every (instance|isolate)/)
  })

  it('reload through a shared store: every instance follows', async () => {
    const real = JSON.parse((await runCli(['reload', '--json'], env)).stdout)
    const run = await stubAdmin(['reload'], {
      ...real,
      runtime: 'workerd',
      reload: { epoch: 'e-42', propagated: true },
    })
    expect(run.code).toBe(0)
    expect(run.stdout.split('\n')[0]).toBe(
      'The reload reached this instance, and every instance follows within 5 s through the shared store (reload epoch e-42).'
    )
    const alone = await stubAdmin(['reload'], {
      ...real,
      runtime: 'workerd',
      reload: { epoch: null, propagated: false },
    })
    expect(alone.stdout.split('\n')[0]).toContain('(bind KEYLINE_KV for that)')
  })

  it('reload or promote while the shared store is down: the warning, not a failure', async () => {
    const real = JSON.parse((await runCli(['reload', '--json'], env)).stdout)
    const warning =
      'the shared store is unavailable: other instances were not told of this change (it applies to this instance; reload again once the store is back)'
    const reload = await stubAdmin(['reload'], {
      ...real,
      reload: { epoch: null, propagated: false },
      warning,
    })
    expect(reload.code).toBe(0)
    expect(reload.stdout.split('\n')[0]).toBe(`Warning: ${warning}.`)
    expect(reload.stdout).not.toMatch(/every instance follows/)
    const promote = await stubAdmin(['promote', 'anthropic'], {
      ...real,
      promoted: {
        provider: 'anthropic',
        credential: 'apiKey',
        fingerprint: '…abcd',
        replaced: '…wxyz',
        propagated: false,
      },
      warning,
    })
    expect(promote.code).toBe(0)
    const [first, second] = promote.stdout.split('\n')
    expect(first).toBe('Promoted anthropic apiKey: current …abcd (was …wxyz).')
    expect(second).toBe(`Warning: ${warning}.`)
  })

  it('status without --json shows the secure stores and the Fyers token expiry', async () => {
    const real = JSON.parse((await runCli(['status', '--json'], env)).stdout)
    // The real deployment has neither: the lines say so.
    const plain = await runCli(['status'], env)
    expect(plain.stdout).toContain('stores: none (no secret comes from a secure store)')
    expect(plain.stdout).toContain('quotas: none (every client is unlimited)')
    const run = await stubAdmin(['status'], {
      ...real,
      providers: {
        ...real.providers,
        fyers: {
          ...real.providers.fyers,
          token: {
            accessToken: { source: 'fyers-refresh', expiresAt: '2026-12-04T00:30:00.000Z' },
            refreshToken: {
              source: 'env:FYERS_REFRESH_TOKEN',
              expiresAt: '2026-12-12T00:00:00.000Z',
              daysLeft: 8.6,
              expired: false,
            },
            refresh: { possible: true, missing: [], last: null, nextAt: null },
            signIn: { possible: false, missing: ['FYERS_REDIRECT_URI'], needed: false },
            vault: { persisted: false, store: null, reason: 'no shared store' },
          },
        },
      },
      stores: [
        {
          variable: 'ANTHROPIC_API_KEY',
          configuredBy: 'ANTHROPIC_API_KEY_AWS_SECRET',
          store: 'aws-sm',
          source: 'aws-sm:prod/keyline#anthropic',
          stage: 'AWSCURRENT',
          versionId: 'v-7',
          present: true,
          fetchedAt: '2026-12-03T08:00:00.000Z',
          nextRefreshAt: '2026-12-03T08:05:00.000Z',
          stale: true,
          consecutiveFailures: 2,
          lastError: 'AccessDeniedException: not authorized (key …wxyz)',
          lastErrorAt: '2026-12-03T08:04:00.000Z',
        },
      ],
    })
    expect(run.code).toBe(0)
    const lines = run.stdout.split('\n')
    expect(lines).toContain('  access token expires: 2026-12-04T00:30:00.000Z')
    expect(lines).toContain('  refresh token: 8.6 days left (until 2026-12-12T00:00:00.000Z)')
    expect(lines).toContain('stores: 1')
    expect(lines).toContain(
      '  ANTHROPIC_API_KEY from aws-sm:prod/keyline#anthropic (version v-7): fetched 2026-12-03T08:00:00.000Z, next fetch 2026-12-03T08:05:00.000Z'
    )
    expect(lines).toContain(
      '    error:  2 failed fetches in a row (an older value is served), last at 2026-12-03T08:04:00.000Z: AccessDeniedException: not authorized (key …wxyz)'
    )
    // The Fyers lines sit in the Fyers block, after its header.
    const fyers = lines.findIndex((line) => line.startsWith('fyers: '))
    expect(lines.indexOf('  access token expires: 2026-12-04T00:30:00.000Z')).toBeGreaterThan(fyers)
  })

  it('promote on one Node process without a shared store: this instance only', async () => {
    const run = await runCli(['promote', 'anthropic'], env)
    expect(run.stderr).toBe('')
    expect(run.code).toBe(0)
    const [first, second] = run.stdout.split('\n')
    expect(first).toBe(
      `Promoted anthropic apiKey: current …${next.slice(-4)} (was …${current.slice(-4)}).`
    )
    expect(second).toBe(
      'The promotion reached this instance only: no shared store carries it to other instances (set KEYLINE_REDIS_URL for that).'
    )
    expect(run.stdout).not.toMatch(/every (instance|isolate)/)
    expect(run.stdout).not.toContain(next)
  })
})

describe('keyline status shows the per-client quotas', { timeout: 30_000 }, () => {
  const token = randomValue('admin', 32)
  const alice = randomValue('client', 32)
  let deployment: NodeDeployment
  let env: Record<string, string>

  beforeAll(async () => {
    const upstream = await stubControl(inject('stubs').anthropic).session()
    const key = randomValue('key', 40)
    await upstream.keys({ replace: [key] })
    deployment = await startNodeDeployment({
      ADMIN_TOKEN: token,
      KEYLINE_CLIENT_TOKENS: `alice=${alice},bob=${randomValue('client', 32)}`,
      KEYLINE_CLIENT_LIMITS: 'alice:rpm=5:tpd=100000,carol:rpm=1',
      ANTHROPIC_API_KEY: key,
      ANTHROPIC_BASE_URL: upstream.url,
    })
    env = { PATH: process.env.PATH ?? '', KEYLINE_ADMIN_TOKEN: token, KEYLINE_URL: deployment.url }
  })
  afterAll(async () => {
    await deployment?.stop()
  })

  it("each client's use of each limit in its window, today's refusals, and each issue", async () => {
    for (let i = 0; i < 2; i++) {
      const res = await fetch(`${deployment.url}/v1/messages`, {
        method: 'POST',
        headers: { authorization: `Bearer ${alice}`, 'content-type': 'application/json' },
        body: JSON.stringify({
          model: 'claude-sonnet-4-5',
          max_tokens: 16,
          messages: [{ role: 'user', content: 'Hello' }],
        }),
      })
      expect(res.status, await res.text()).toBe(200)
    }
    const run = await runCli(['status'], env)
    expect(run.stderr).toBe('')
    expect(run.code).toBe(0)
    const lines = run.stdout.split('\n')
    expect(lines, run.stdout).toContain(
      'quotas: from env:KEYLINE_CLIENT_LIMITS, counted in memory, fail open when it is down'
    )
    const line = lines.find((l) => l.startsWith('  alice: '))
    expect(line).toMatch(
      /^ {2}alice: rpm 2\/5 until \S+Z, tpd [1-9]\d*\/100000 until \S+Z, refused today 0$/
    )
    // A client without limits has no line.
    expect(lines.some((l) => l.startsWith('  bob: '))).toBe(false)
    expect(lines.some((l) => l.startsWith('  note: ') && l.includes('carol'))).toBe(true)
    expect(run.stdout).not.toContain(alice)
  })
})

describe('keyline rotate --dry-run prints the command as the user ran it', () => {
  const cli = async (argv: string[], extraEnv: Record<string, string> = {}) => {
    const out: string[] = []
    const code = await runCliInProcess(argv, {
      env: { KEYLINE_ADMIN_TOKEN: randomValue('admin', 32), ...extraEnv },
      stdin: new PassThrough(),
      out: (line) => out.push(line),
      err: (line) => out.push(line),
      // A dry run with --target needs no call: any call fails the test.
      fetch: (async () => {
        throw new Error('a dry run called the deployment')
      }) as typeof fetch,
    })
    return { code, lines: out.join('\n').split('\n') }
  }

  it('its own arguments, in its order, quoted where a shell needs it', async () => {
    const argv = ['rotate', 'anthropic', '--dry-run', '--target', 'workers']
    const typed = [...argv, '--name', 'my worker', '--url', 'https://keyline.example']
    const run = await cli(typed)
    expect(run.code).toBe(0)
    expect(run.lines[0]).toBe(
      "Dry run of: keyline rotate anthropic --dry-run --target workers --name 'my worker' --url https://keyline.example"
    )
    expect(run.lines[1]).toBe(
      'Plan to rotate anthropic on https://keyline.example/ (workers); nothing changes:'
    )
    expect(run.lines.at(-1)).toBe(
      `To run it, pipe the new value in: printf %s "$NEW_VALUE" | keyline rotate anthropic --target workers --name 'my worker' --url https://keyline.example`
    )
  })

  it('a password in a typed URL is never printed', async () => {
    const password = randomValue('pw', 24)
    const run = await cli([
      'rotate',
      'fyers',
      '--target',
      'workers',
      '--dry-run',
      '--url',
      `https://ops:${password}@keyline.example`,
    ])
    expect(run.code).toBe(0)
    expect(run.lines[0]).toBe(
      "Dry run of: keyline rotate fyers --target workers --dry-run --url 'https://ops:***@keyline.example'"
    )
    expect(run.lines.join('\n')).not.toContain(password)
  })

  it('the Node steps name the URL as given: --url as typed, else none (KEYLINE_URL)', async () => {
    const fromEnv = await cli(['rotate', 'anthropic', '--target', 'node', '--dry-run'], {
      KEYLINE_URL: 'https://keyline.example',
    })
    expect(fromEnv.lines).toContain('  2. keyline reload')
    expect(fromEnv.lines.join('\n')).not.toContain('--url')
    const typed = await cli([
      'rotate',
      'anthropic',
      '--target',
      'node',
      '--url',
      'https://keyline.example',
    ])
    expect(typed.lines).toContain('  2. keyline --url https://keyline.example reload')
    expect(typed.lines).toContain(
      'Or let keyline do it: keyline --url https://keyline.example rotate anthropic --target node --current-file <path> --next-file <path>'
    )
  })
})

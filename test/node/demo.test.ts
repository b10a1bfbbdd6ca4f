import { spawn } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import { describe, expect, it } from 'vitest'
import { EXAMPLE_MODEL } from '../../src/catalog/anthropic.ts'
import { runCli } from '../../src/cli/run.ts'

const ROOT = fileURLToPath(new URL('../../', import.meta.url))

describe('npm run demo', () => {
  it('prints the client and admin tokens and the commands, and shows the CLI working', async () => {
    const child = spawn(process.execPath, ['scripts/demo.ts'], {
      cwd: ROOT,
      env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '/tmp', PORT: '0' },
      stdio: ['ignore', 'pipe', 'pipe'],
    })
    let output = ''
    child.stdout.on('data', (chunk: Buffer) => {
      output += chunk.toString('utf8')
    })
    child.stderr.on('data', (chunk: Buffer) => {
      output += chunk.toString('utf8')
    })
    const exited = new Promise<number | null>((resolve) => child.on('close', resolve))
    try {
      await expect.poll(() => output, { timeout: 20_000 }).toContain('Ctrl-C stops everything')
      const url = /proxy (http:\/\/\S+),/.exec(output)?.[1] as string
      const admin = /admin token \(ADMIN_TOKEN\): +(\S+)/.exec(output)?.[1] as string
      const client = /client token \(KEYLINE_CLIENT_TOKENS=demo=…\): +(\S+)/.exec(output)?.[1]
      expect(output).toContain(`export KEYLINE_URL=${url} KEYLINE_ADMIN_TOKEN=${admin}`)
      expect(output).toContain('npm run -s cli -- status')
      expect(output).toContain(`"model":"${EXAMPLE_MODEL}"`)
      // The CLI's own status, run by the demo against itself.
      expect(output).toMatch(/anthropic: configured, generation \d+/)
      expect(output).toContain('clients: 1 token (demo: 1) from env:KEYLINE_CLIENT_TOKENS')
      const status = await fetch(`${url}/admin/keys/status`, {
        headers: { authorization: `Bearer ${admin}` },
      })
      expect(status.status).toBe(200)
      const message = await fetch(`${url}/v1/messages`, {
        method: 'POST',
        headers: { authorization: `Bearer ${client}`, 'content-type': 'application/json' },
        body: JSON.stringify({
          model: EXAMPLE_MODEL,
          max_tokens: 16,
          messages: [{ role: 'user', content: 'Hello' }],
        }),
      })
      expect(message.status).toBe(200)
    } finally {
      child.kill('SIGTERM')
    }
    expect(await exited).toBe(0)
  }, 40_000)

  it('the Fyers flow works end to end: fyers refresh and a fyers login round trip (issue 22, item 7)', async () => {
    const child = spawn(process.execPath, ['scripts/demo.ts'], {
      cwd: ROOT,
      env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '/tmp', PORT: '0' },
      stdio: ['ignore', 'pipe', 'pipe'],
    })
    let output = ''
    child.stdout.on('data', (chunk: Buffer) => {
      output += chunk.toString('utf8')
    })
    child.stderr.on('data', (chunk: Buffer) => {
      output += chunk.toString('utf8')
    })
    const exited = new Promise<number | null>((resolve) => child.on('close', resolve))
    try {
      await expect.poll(() => output, { timeout: 20_000 }).toContain('Ctrl-C stops everything')
      expect(output).toContain('npm run -s cli -- fyers refresh')
      expect(output).toContain('npm run -s cli -- fyers login')
      const url = /proxy (http:\/\/\S+),/.exec(output)?.[1] as string
      const admin = /admin token \(ADMIN_TOKEN\): +(\S+)/.exec(output)?.[1] as string
      const out: string[] = []
      const err: string[] = []
      const cli = (...args: string[]) =>
        runCli(args, {
          env: { KEYLINE_URL: url, KEYLINE_ADMIN_TOKEN: admin },
          stdin: process.stdin,
          out: (line) => out.push(line),
          err: (line) => err.push(line),
        })
      expect(await cli('fyers', 'refresh'), err.join('\n')).toBe(0)
      const login = cli('fyers', 'login', '--timeout', '20')
      await expect
        .poll(() => out.find((l) => l.includes('/api/v3/generate-authcode')), { timeout: 10_000 })
        .toBeTruthy()
      const signIn = (out.find((l) => l.includes('/api/v3/generate-authcode')) as string)
        .trim()
        .split(/\s+/)
        .find((word) => word.startsWith('http')) as string
      // The browser: the stub Fyers signs in at once and sends it back to the proxy's callback.
      const back = await fetch(signIn, { redirect: 'manual' })
      const callback = back.headers.get('location') ?? ''
      expect(callback.startsWith(`${url}/admin/fyers/callback?`)).toBe(true)
      const page = await fetch(callback)
      expect(page.status).toBe(200)
      await page.body?.cancel()
      expect(await login, err.join('\n')).toBe(0)
      expect(out.at(-1)).toMatch(/^Signed in: the Fyers access token is/)
    } finally {
      child.kill('SIGTERM')
    }
    expect(await exited).toBe(0)
  }, 60_000)
})

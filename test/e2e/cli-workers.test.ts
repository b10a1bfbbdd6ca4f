import { chmod, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { KeyStatus, ProviderStatus } from '../../src/admin/index.ts'
import type { ProviderId } from '../../src/catalog/providers.ts'
import { baseEnv, REPO_ROOT } from '../contract/harness/runtimes.ts'
import { type RunningServer, startServer } from '../contract/harness/server.ts'
import { type CliRun, runCli } from '../node/support/run-cli.ts'
import { startAnthropicStub } from '../stubs/anthropic.ts'
import { type StubControl, stubControl } from '../stubs/control.ts'
import { generateStubKeys, stubBindings, stubOptionsFor } from '../stubs/fixtures.ts'
import { startFyersStub } from '../stubs/fyers.ts'
import type { StartedStub } from '../stubs/stub-server.ts'
import type { RecordedRequest, StubKeys } from '../stubs/types.ts'

/**
 * `keyline rotate anthropic|fyers --target workers` end to end against a real `wrangler dev`
 * (workerd), with a stand-in `wrangler` first on the CLI's PATH.
 *
 * Every binding of the Worker lives in an env file (`--env-file`), next to a copy of the repo's
 * wrangler.toml (`--config`, `main` made absolute). The stand-in's `secret put NAME` (value on
 * stdin) and `secret delete NAME` edit that env file and then touch the config: `wrangler dev`
 * does not watch the env file, but reloads on a config change and re-reads the env file then,
 * so the Worker sees the new bindings the way a new deployment would after a real
 * `wrangler secret put`. The stand-in records each call's argv (never the value).
 *
 * Stub Anthropic and Fyers upstreams run in this process.
 */

const fp = (value: string): string => `…${value.slice(-4)}`

/** What differs between the two providers' rotations. */
interface Case {
  readonly provider: ProviderId
  /** The rotating variable; its staged form is `<variable>_NEW`. */
  readonly variable: string
  readonly stub: () => StubControl
  /** The credential set of the stub that holds the rotating key. */
  readonly set: string
  readonly initial: (keys: StubKeys) => string
  readonly fresh: () => string
  /** A proxied request with the client token. */
  readonly call: () => Promise<Response>
  /** The upstream path {@link call} reaches, and the key the stub saw on it. */
  readonly path: string
  readonly keyOf: (request: RecordedRequest) => string | undefined
}

let anthropicStub: StartedStub | undefined
let fyersStub: StartedStub | undefined
let server: RunningServer | undefined
let work: string
let envFile: string
let wranglerLog: string
let cliEnv: Record<string, string>
let keys: StubKeys
const clientToken = `kl-e2e-${crypto.randomUUID()}`
const adminToken = `kl-admin-${crypto.randomUUID()}`

const keyline = (): RunningServer => {
  if (!server) throw new Error('wrangler dev is not running')
  return server
}

const proxied = (path: string, init: RequestInit = {}): Promise<Response> =>
  fetch(`${keyline().url}${path}`, {
    ...init,
    headers: { authorization: `Bearer ${clientToken}`, ...init.headers },
  })

const CASES: readonly Case[] = [
  {
    provider: 'anthropic',
    variable: 'ANTHROPIC_API_KEY',
    stub: () => stubControl((anthropicStub as StartedStub).url),
    set: 'apiKeys',
    initial: (k) => k.anthropic.apiKey,
    fresh: () => generateStubKeys().anthropic.apiKey,
    call: () =>
      proxied('/v1/messages', {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({
          model: 'claude-sonnet-4-5',
          max_tokens: 16,
          messages: [{ role: 'user', content: 'hello' }],
        }),
      }),
    path: '/v1/messages',
    keyOf: (r) => r.headers['x-api-key'],
  },
  {
    provider: 'fyers',
    variable: 'FYERS_ACCESS_TOKEN',
    stub: () => stubControl((fyersStub as StartedStub).url),
    set: 'accessTokens',
    initial: (k) => k.fyers.accessToken,
    fresh: () => generateStubKeys().fyers.accessToken,
    call: () => proxied('/v1/quotes?symbols=NSE:SBIN-EQ'),
    path: '/data/quotes',
    keyOf: (r) => {
      const header = r.headers.authorization ?? ''
      return header.startsWith(`${keys.fyers.clientId}:`)
        ? header.slice(keys.fyers.clientId.length + 1)
        : undefined
    },
  },
]

/** The repo's wrangler.toml with `main` and the `[alias]` paths made absolute, so the copy works from any directory. */
const wranglerConfig = async (): Promise<string> => {
  const text = await readFile(join(REPO_ROOT, 'wrangler.toml'), 'utf8')
  const main = /^main\s*=\s*"([^"]+)"/m.exec(text)?.[1]
  if (!main) throw new Error('wrangler.toml has no main')
  return text
    .replace(/^main\s*=\s*"[^"]+"/m, `main = ${JSON.stringify(join(REPO_ROOT, main))}`)
    .replace(
      /= "\.\/([^"]+)"$/gm,
      (_, path: string) => `= ${JSON.stringify(join(REPO_ROOT, path))}`
    )
}

const envFileText = (bindings: Record<string, string>): string =>
  Object.entries(bindings)
    .map(([name, value]) => {
      if (!/^[\w.:/@+-]+$/.test(value)) throw new Error(`${name}: value needs quoting`)
      return `${name}=${value}\n`
    })
    .join('')

/**
 * The stand-in `wrangler`: `secret put NAME` sets NAME to stdin's value in the env file,
 * `secret delete NAME` removes it; both then touch the config so `wrangler dev` reloads. Flags
 * (`--name`, `--config`, `--env`, `--force`, …) are ignored; each call's argv is appended to the
 * log as one JSON line.
 */
const standInWrangler = (paths: { envFile: string; config: string; log: string }): string => `#!${
  process.execPath
}
import { appendFileSync, readFileSync, renameSync, writeFileSync } from 'node:fs'
const { envFile, config, log } = ${JSON.stringify(paths)}
const argv = process.argv.slice(2)
appendFileSync(log, JSON.stringify(argv) + '\\n')
const withValue = new Set(['--name', '--config', '-c', '--env', '-e', '--cwd'])
const words = []
for (let i = 0; i < argv.length; i++) {
  if (withValue.has(argv[i])) i++
  else if (!argv[i].startsWith('-')) words.push(argv[i])
}
const [group, verb, name] = words
if (group !== 'secret' || (verb !== 'put' && verb !== 'delete') || !/^[A-Z0-9_]+$/.test(name ?? '')) {
  console.error('stand-in wrangler: only "secret put NAME" and "secret delete NAME"')
  process.exit(1)
}
let value
if (verb === 'put') {
  const chunks = []
  for await (const chunk of process.stdin) chunks.push(chunk)
  value = Buffer.concat(chunks).toString('utf8').trim()
  if (!value || /[\\r\\n]/.test(value)) {
    console.error('stand-in wrangler: expected one line on stdin')
    process.exit(1)
  }
}
const lines = readFileSync(envFile, 'utf8').split('\\n').filter((l) => l && !l.startsWith(name + '='))
if (value !== undefined) lines.push(name + '=' + value)
writeFileSync(envFile + '.tmp', lines.join('\\n') + '\\n', { mode: 0o600 })
renameSync(envFile + '.tmp', envFile)
appendFileSync(config, '# stand-in wrangler: ' + verb + ' ' + name + ' at ' + new Date().toISOString() + '\\n')
console.log(verb === 'put' ? 'Success! Uploaded secret ' + name : 'Success! Deleted secret ' + name)
`

const wranglerCalls = async (): Promise<string[][]> =>
  (await readFile(wranglerLog, 'utf8').catch(() => ''))
    .split('\n')
    .filter(Boolean)
    .map((line) => JSON.parse(line) as string[])

/** The env file as name → value. */
const envValues = async (): Promise<Record<string, string>> =>
  Object.fromEntries(
    (await readFile(envFile, 'utf8'))
      .split('\n')
      .filter(Boolean)
      .map((line) => [line.slice(0, line.indexOf('=')), line.slice(line.indexOf('=') + 1)])
  )

const status = async (): Promise<KeyStatus> => {
  const response = await fetch(`${keyline().url}/admin/keys/status`, {
    headers: { authorization: `Bearer ${adminToken}` },
  })
  expect(response.status).toBe(200)
  return (await response.json()) as KeyStatus
}

const rotate = (provider: ProviderId, secret: string): Promise<CliRun> =>
  runCli(
    [
      'rotate',
      provider,
      '--target',
      'workers',
      '--url',
      keyline().url,
      '--name',
      'keyline',
      '--interval',
      '0.5',
      '--timeout',
      '30',
    ],
    cliEnv,
    `${secret}\n`
  )

const explain = (run: CliRun): string =>
  `exit ${run.code}\n--- stdout ---\n${run.stdout}\n--- stderr ---\n${run.stderr}\n--- wrangler dev ---\n${keyline()
    .output()
    .slice(-4000)}`

beforeAll(async () => {
  keys = generateStubKeys()
  const options = stubOptionsFor(keys)
  anthropicStub = await startAnthropicStub(options.anthropic)
  fyersStub = await startFyersStub(options.fyers)

  work = await mkdtemp(join(tmpdir(), 'keyline-cli-workers-'))
  const bin = join(work, 'bin')
  await mkdir(bin)
  wranglerLog = join(work, 'wrangler-calls.jsonl')
  const bindings = {
    ADMIN_TOKEN: adminToken,
    ...stubBindings(keys, { anthropic: anthropicStub.url, fyers: fyersStub.url }, clientToken),
  }

  server = await startServer('workerd', {
    launch: async (spec, { dir }) => {
      const config = join(dir, 'wrangler.toml')
      envFile = join(dir, 'vars.env')
      await writeFile(config, await wranglerConfig())
      await writeFile(envFile, envFileText(bindings), { mode: 0o600 })
      const wrangler = join(bin, 'wrangler')
      await writeFile(wrangler, standInWrangler({ envFile, config, log: wranglerLog }))
      await chmod(wrangler, 0o755)
      const args = [...spec.args]
      for (const [flag, value] of [
        ['--config', config],
        ['--env-file', envFile],
      ] as const) {
        const at = args.indexOf(flag)
        if (at < 0) throw new Error(`wrangler dev is started without ${flag}`)
        args[at + 1] = value
      }
      return { ...spec, args }
    },
  })

  cliEnv = {
    ...baseEnv(),
    PATH: `${bin}:${baseEnv().PATH}`,
    KEYLINE_ADMIN_TOKEN: adminToken,
  }
})

afterAll(async () => {
  await server?.stop()
  await Promise.all([anthropicStub?.close(), fyersStub?.close()])
  if (work) await rm(work, { recursive: true, force: true })
})

describe.each(CASES)('keyline rotate $provider --target workers (wrangler dev)', (c) => {
  /** The key the deployment uses now; the first test rotates it. */
  let current: string
  const staged = `${c.variable}_NEW`
  const providerStatus = async (): Promise<ProviderStatus> => (await status()).providers[c.provider]

  /** Calls through the proxy; it must succeed, and the stub must have seen `key`. */
  const expectProxiedWith = async (key: string): Promise<void> => {
    const response = await c.call()
    const body = await response.text()
    expect(response.status, body).toBe(200)
    const seen = (await c.stub().requests()).filter((r) => r.path === c.path).at(-1)
    expect(seen, `no ${c.path} reached the stub`).toBeDefined()
    expect(c.keyOf(seen as RecordedRequest) === key, `the stub saw another key on ${c.path}`).toBe(
      true
    )
  }

  beforeAll(() => {
    current = c.initial(keys)
  })

  it('stages, validates, promotes and cleans up; the proxy then uses the new key', async () => {
    await writeFile(wranglerLog, '')
    const fresh = c.fresh()
    await c.stub().keys({ set: c.set, accept: [fresh] })

    const run = await rotate(c.provider, fresh)
    expect(run.code, explain(run)).toBe(0)
    expect(run.stderr).toBe('')
    expect(run.stdout).toContain(`Rotated ${c.provider}: current ${fp(fresh)}`)
    expect(await wranglerCalls()).toEqual([
      ['secret', 'put', staged, '--name', 'keyline'],
      ['secret', 'put', c.variable, '--name', 'keyline'],
      ['secret', 'delete', staged, '--name', 'keyline'],
    ])
    const env = await envValues()
    expect(env[c.variable] === fresh, `${c.variable} holds the new key`).toBe(true)
    expect(env[staged]).toBeUndefined()

    expect(await providerStatus()).toMatchObject({
      configured: true,
      current: { fingerprint: fp(fresh) },
      next: null,
    })

    // The old key is gone upstream: only the new one can make the proxied call succeed.
    await c.stub().keys({ set: c.set, revoke: [current] })
    await expectProxiedWith(fresh)

    for (const text of [run.stdout, run.stderr, await readFile(wranglerLog, 'utf8')]) {
      expect(text.includes(fresh), 'the new key leaked').toBe(false)
    }
    expect(keyline().output().includes(fresh), 'wrangler dev printed the new key').toBe(false)
    current = fresh
  })

  it('stops with a non-zero exit when the upstream rejects the new key, keeping the old one', async () => {
    await writeFile(wranglerLog, '')
    const before = (await envValues())[c.variable]
    expect(before === current).toBe(true)
    const rejected = c.fresh()

    const run = await rotate(c.provider, rejected)
    expect(run.code, explain(run)).toBe(1)
    expect(run.stderr).toContain(`next ${fp(rejected)} is invalid`)
    expect(run.stderr).toContain('Rotation stopped at step 4')
    expect(run.stderr).toContain(`The old key is still current in ${c.variable} and keeps working`)
    expect(run.stdout).not.toContain('Promote')
    expect(await wranglerCalls()).toEqual([['secret', 'put', staged, '--name', 'keyline']])

    const env = await envValues()
    expect(env[c.variable] === current, `${c.variable} was overwritten`).toBe(true)
    const after = await providerStatus()
    expect(after.current?.fingerprint).toBe(fp(current))
    expect(after.next).toMatchObject({ fingerprint: fp(rejected), validity: 'invalid' })
    await expectProxiedWith(current)
    expect(`${run.stdout}${run.stderr}`.includes(rejected), 'the rejected key leaked').toBe(false)
  })
})

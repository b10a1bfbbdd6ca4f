import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach, beforeEach, describe, expect, inject, it } from 'vitest'
import { type StubControl, stubControl } from '../stubs/control.ts'
import { leaks, randomValue } from '../unit/admin-harness.ts'
import { installFakeWrangler, type WranglerCall } from './support/fake-wrangler.ts'
import { type NodeDeployment, startNodeDeployment } from './support/node-deployment.ts'
import { runCli } from './support/run-cli.ts'

/**
 * The rotation CLI end to end: a real Node deployment of keyline (secrets in `_FILE` files),
 * the Anthropic stub upstream, and a stand-in `wrangler` first on PATH that records its calls
 * and, like a deployment, makes each `secret put`/`delete` visible to the running keyline by
 * writing the file behind that variable.
 */
describe('keyline rotate (CLI, end to end)', { timeout: 40_000 }, () => {
  let dir: string
  let upstream: StubControl
  let deployment: NodeDeployment
  let wrangler: { calls: () => Promise<WranglerCall[]> }
  let env: Record<string, string>
  let oldKey: string
  let clientToken: string
  const fp = (value: string) => `…${value.slice(-4)}`
  const secretFile = (name: string) => join(dir, 'secrets', name)

  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'keyline-cli-'))
    await mkdir(join(dir, 'secrets'))
    await mkdir(join(dir, 'bin'))
    upstream = await stubControl(inject('stubs').anthropic).session()
    oldKey = randomValue('old')
    await upstream.keys({ replace: [oldKey] })
    await writeFile(secretFile('ANTHROPIC_API_KEY'), `${oldKey}\n`)
    await writeFile(secretFile('ANTHROPIC_API_KEY_NEW'), '')
    wrangler = await installFakeWrangler(join(dir, 'bin'))
    await writeFile(
      join(dir, 'bin', 'hook.mjs'),
      `import { renameSync, writeFileSync } from 'node:fs'
export default ({ argv, stdin }) => {
  const [, verb, name] = argv
  const path = ${JSON.stringify(join(dir, 'secrets'))} + '/' + name
  writeFileSync(path + '.tmp', verb === 'put' ? stdin : '')
  renameSync(path + '.tmp', path)
}
`
    )
    const adminToken = randomValue('admin', 32)
    clientToken = randomValue('client', 32)
    deployment = await startNodeDeployment({
      ADMIN_TOKEN: adminToken,
      KEYLINE_CLIENT_TOKENS: clientToken,
      ANTHROPIC_API_KEY_FILE: secretFile('ANTHROPIC_API_KEY'),
      ANTHROPIC_API_KEY_NEW_FILE: secretFile('ANTHROPIC_API_KEY_NEW'),
      ANTHROPIC_BASE_URL: upstream.url,
    })
    env = {
      PATH: `${join(dir, 'bin')}:${process.env.PATH ?? ''}`,
      KEYLINE_ADMIN_TOKEN: adminToken,
      KEYLINE_URL: deployment.url,
    }
  })

  afterEach(async () => {
    await deployment?.stop()
    await rm(dir, { recursive: true, force: true })
  })

  const proxiedModels = () =>
    fetch(`${deployment.url}/v1/models`, { headers: { authorization: `Bearer ${clientToken}` } })
  const status = async () => {
    const run = await runCli(['status', '--json'], env)
    expect(run.code).toBe(0)
    return JSON.parse(run.stdout)
  }
  const fast = ['--interval', '0.2', '--timeout', '20']

  it('rotates a Workers deployment: stage, reload, validate, promote, clean up, check', async () => {
    const newKey = randomValue('new')
    await upstream.keys({ accept: [newKey] })
    const run = await runCli(
      ['rotate', 'anthropic', '--target', 'workers', ...fast],
      env,
      `${newKey}\n`
    )
    expect(run.stderr).toBe('')
    expect(run.code).toBe(0)
    const steps = run.stdout.split('\n').filter((line) => /^\[\d\/9\]/.test(line))
    expect(steps).toEqual([
      '[1/9] Check the deployment: GET /admin/keys/status',
      '[2/9] Stage the new Anthropic API key: wrangler secret put ANTHROPIC_API_KEY_NEW (value on stdin)',
      '[3/9] Reload: POST /admin/keys/reload',
      '[4/9] Wait for the deployment to report the staged key next: valid',
      '[5/9] Promote: wrangler secret put ANTHROPIC_API_KEY (value on stdin)',
      '[6/9] Wait for the deployment to use the new key as current',
      '[7/9] Remove the staged key: wrangler secret delete ANTHROPIC_API_KEY_NEW',
      '[8/9] Reload: POST /admin/keys/reload',
      '[9/9] Check status: configured, current is the new key, no next key staged',
    ])
    expect(run.stdout).toContain(`Rotated anthropic: current ${fp(newKey)}`)
    const calls = await wrangler.calls()
    expect(calls).toEqual([
      { argv: ['secret', 'put', 'ANTHROPIC_API_KEY_NEW'], stdin: newKey },
      { argv: ['secret', 'put', 'ANTHROPIC_API_KEY'], stdin: newKey },
      { argv: ['secret', 'delete', 'ANTHROPIC_API_KEY_NEW'], stdin: '' },
    ])
    for (const text of [run.stdout, run.stderr, deployment.output()]) {
      expect(leaks(text, newKey)).toBeUndefined()
      expect(leaks(text, oldKey)).toBeUndefined()
    }
    const after = (await status()).providers.anthropic
    expect(after).toMatchObject({
      configured: true,
      current: { fingerprint: fp(newKey) },
      next: null,
    })
    await upstream.keys({ revoke: [oldKey] })
    const models = await proxiedModels()
    expect(models.status, `${await models.text()}\n${deployment.output()}`).toBe(200)
  })

  it('stops with a non-zero exit when the upstream rejects the new key, keeping the old one', async () => {
    const newKey = randomValue('rejected')
    const run = await runCli(['rotate', 'anthropic', '--target', 'workers', ...fast], env, newKey)
    expect(run.code).toBe(1)
    expect(run.stderr).toContain(`next ${fp(newKey)} is invalid (http_401)`)
    expect(run.stderr).toContain('Rotation stopped at step 4')
    expect(run.stderr).toContain(
      'The old key is still current in ANTHROPIC_API_KEY and keeps working'
    )
    expect(run.stdout).not.toContain('[5/9]')
    expect((await wrangler.calls()).map((c) => c.argv)).toEqual([
      ['secret', 'put', 'ANTHROPIC_API_KEY_NEW'],
    ])
    expect(await readFile(secretFile('ANTHROPIC_API_KEY'), 'utf8')).toBe(`${oldKey}\n`)
    const after = (await status()).providers.anthropic
    expect(after.current.fingerprint).toBe(fp(oldKey))
    expect(after.next).toMatchObject({ fingerprint: fp(newKey), validity: 'invalid' })
    expect((await proxiedModels()).status).toBe(200)
    expect(leaks(run.stdout + run.stderr, newKey)).toBeUndefined()
  })

  it('stops when wrangler fails, with its output and a non-zero exit', async () => {
    await writeFile(
      join(dir, 'bin', 'hook.mjs'),
      'export default () => { console.error("Authentication error [code: 10000]"); return 1 }\n'
    )
    const run = await runCli(
      ['rotate', 'anthropic', '--target', 'workers', ...fast],
      env,
      randomValue('new')
    )
    expect(run.code).toBe(1)
    expect(run.stderr).toContain('wrangler secret put ANTHROPIC_API_KEY_NEW exited with 1')
    expect(run.stderr).toContain('Authentication error')
    expect(run.stderr).toContain('Rotation stopped at step 2')
    expect((await status()).providers.anthropic.current.fingerprint).toBe(fp(oldKey))
  })

  it('rotates a Node deployment through its _FILE files', async () => {
    const newKey = randomValue('new')
    await upstream.keys({ accept: [newKey] })
    const run = await runCli(
      [
        'rotate',
        'anthropic',
        '--current-file',
        secretFile('ANTHROPIC_API_KEY'),
        '--next-file',
        secretFile('ANTHROPIC_API_KEY_NEW'),
        ...fast,
      ],
      env,
      newKey
    )
    expect(run.stderr).toBe('')
    expect(run.code).toBe(0)
    expect(run.stdout).toContain('(node)')
    // One process, no shared store: the reload reached this instance, the files reach the rest.
    expect(run.stdout).toContain(
      'ok: reloaded this instance only (no shared store: set KEYLINE_REDIS_URL to reach the others); other processes re-read the files within 5 s on their own'
    )
    expect(run.stdout).not.toMatch(/every (instance|isolate)/)
    expect(await readFile(secretFile('ANTHROPIC_API_KEY'), 'utf8')).toBe(`${newKey}\n`)
    expect(await readFile(secretFile('ANTHROPIC_API_KEY_NEW'), 'utf8')).toBe('')
    expect(await wrangler.calls()).toEqual([])
    expect((await status()).providers.anthropic.current.fingerprint).toBe(fp(newKey))
  })

  it('prints the steps for a Node deployment when no file paths are given', async () => {
    const run = await runCli(['rotate', 'fyers'], env)
    expect(run.code).toBe(0)
    expect(run.stdout).toContain('FYERS_ACCESS_TOKEN_NEW_FILE')
    expect(run.stdout).toContain('Nothing was changed.')
  })

  it('prints the plan with --dry-run and changes nothing', async () => {
    const run = await runCli(['rotate', 'fyers', '--target', 'workers', '--dry-run'], env)
    expect(run.code).toBe(0)
    expect(run.stdout).toContain('Dry run of: keyline rotate fyers --target workers --dry-run')
    expect(run.stdout).toContain(
      '2. Stage the new Fyers access token: wrangler secret put FYERS_ACCESS_TOKEN_NEW'
    )
    expect(await wrangler.calls()).toEqual([])
  })

  it('refuses to run without an admin token or with a wrong one', async () => {
    const none = await runCli(['status'], { PATH: env.PATH ?? '', KEYLINE_URL: deployment.url })
    expect(none.code).toBe(2)
    expect(none.stderr).toContain('KEYLINE_ADMIN_TOKEN')
    const wrong = await runCli(['reload'], { ...env, KEYLINE_ADMIN_TOKEN: randomValue('x', 32) })
    expect(wrong.code).toBe(1)
    expect(wrong.stderr).toContain('The admin token was refused (401)')
  })
})

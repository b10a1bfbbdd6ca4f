import { describe, expect, it } from 'vitest'
import { createApp } from '../../src/app.ts'
import { bindingsOnly } from '../../src/env.ts'
import { SecretRegistry } from '../../src/secrets/registry.ts'
import { adminHarness, generatedEnv, leaks, randomValue } from './admin-harness.ts'

describe('GET /admin/keys/status', () => {
  it('describes every provider with fingerprints only', async () => {
    const h = adminHarness()
    const env = {
      ...generatedEnv(),
      ANTHROPIC_API_KEY_NEW: randomValue('test-anthropic-next-'),
      FYERS_ACCESS_TOKEN_NEW: randomValue('test-fyers-next-'),
    }
    h.upstream.anthropicKeys.add(env.ANTHROPIC_API_KEY_NEW)
    const res = await h.request('/admin/keys/status', env, { token: env.ADMIN_TOKEN })
    expect(res.status).toBe(200)
    expect(res.headers.get('cache-control')).toBe('no-store')
    const text = await res.text()
    const body = JSON.parse(text)
    expect(body.runtime).toBe('test')
    expect(Number.isNaN(Date.parse(body.time))).toBe(false)
    expect(body.providers.anthropic).toMatchObject({
      configured: true,
      reasons: [],
      credential: 'apiKey',
      source: 'env:ANTHROPIC_API_KEY',
      current: {
        source: 'env:ANTHROPIC_API_KEY',
        fingerprint: `…${env.ANTHROPIC_API_KEY.slice(-4)}`,
      },
      next: {
        source: 'env:ANTHROPIC_API_KEY_NEW',
        fingerprint: `…${env.ANTHROPIC_API_KEY_NEW.slice(-4)}`,
        validity: 'valid',
      },
      health: { consecutiveFailures: 0, lastSuccessAt: null, failovers: 0 },
    })
    expect(typeof body.providers.anthropic.generation).toBe('number')
    expect(Number.isNaN(Date.parse(body.providers.anthropic.loadedAt))).toBe(false)
    expect(body.providers.fyers.next).toMatchObject({
      validity: 'invalid',
      reason: 'fyers_code_-16',
    })
    expect(body.providers.fyers.credentials.clientId.current.fingerprint).toBe('[REDACTED]')
    for (const [name, value] of Object.entries(env)) {
      expect(leaks(text, value), `${name} leaked`).toBeUndefined()
    }
  })

  it('says why a provider is not configured', async () => {
    const h = adminHarness()
    const admin = randomValue('admin-', 32)
    const env = {
      ADMIN_TOKEN: admin,
      ANTHROPIC_API_KEY: randomValue('test-anthropic-'),
      CLAUDE_API_KEY: randomValue('test-claude-'),
      FYERS_CLIENT_ID: 'your-key-here',
    }
    const text = await (await h.request('/admin/keys/status', env, { token: admin })).text()
    const body = JSON.parse(text)
    expect(body.providers.anthropic.configured).toBe(true)
    expect(body.providers.anthropic.issues).toContainEqual(
      expect.objectContaining({
        reason: 'alias_conflict',
        variable: 'CLAUDE_API_KEY',
        blocking: false,
      })
    )
    expect(body.providers.anthropic.next).toBeNull()
    expect(body.providers.fyers.configured).toBe(false)
    expect(body.providers.fyers.reasons).toEqual(['missing'])
    expect(body.providers.fyers.issues).toContainEqual(
      expect.objectContaining({ reason: 'placeholder', variable: 'FYERS_CLIENT_ID' })
    )
    expect(body.providers.fyers.current).toBeNull()
    for (const value of [env.ANTHROPIC_API_KEY, env.CLAUDE_API_KEY, admin]) {
      expect(leaks(text, value)).toBeUndefined()
    }
  })

  it('shows the health the tracker recorded', async () => {
    let now = Date.UTC(2026, 0, 2, 3, 4, 5)
    const h = adminHarness({ now: () => now })
    const env = generatedEnv()
    h.health.success('anthropic')
    now += 1000
    h.health.failure('anthropic', 'authentication_error')
    h.health.failover('anthropic')
    const body = await (
      await h.request('/admin/keys/status', env, { token: env.ADMIN_TOKEN })
    ).json()
    expect(body.providers.anthropic.health).toEqual({
      consecutiveFailures: 1,
      lastSuccessAt: '2026-01-02T03:04:05.000Z',
      lastFailureAt: '2026-01-02T03:04:06.000Z',
      lastErrorType: 'authentication_error',
      failovers: 1,
    })
  })

  it('validates a next secret once per generation, not on every status', async () => {
    const h = adminHarness()
    const env = { ...generatedEnv(), ANTHROPIC_API_KEY_NEW: randomValue('test-anthropic-next-') }
    h.upstream.anthropicKeys.add(env.ANTHROPIC_API_KEY_NEW)
    for (let i = 0; i < 3; i++)
      await h.request('/admin/keys/status', env, { token: env.ADMIN_TOKEN })
    const models = h.upstream.calls.filter((call) => call.url.endsWith('/v1/models'))
    expect(models).toHaveLength(1)
    expect(models[0]?.redirect).toBe('manual')
  })

  it('audits the status action without any token', async () => {
    const h = adminHarness()
    const env = generatedEnv()
    await h.request('/admin/keys/status', env, { token: env.ADMIN_TOKEN })
    const audit = h.lines.find((l) => l.msg === 'admin audit')
    expect(audit).toMatchObject({ action: 'status', provider: null, result: 'ok' })
    expect(typeof audit?.time).toBe('string')
    expect(leaks(JSON.stringify(h.lines), env.ADMIN_TOKEN)).toBeUndefined()
  })
})

describe('admin answers are redacted like the proxy’s', () => {
  it('an AWS error that echoes the session token, a key and the admin token shows fingerprints only', async () => {
    const env = generatedEnv()
    const session = randomValue('aws-session', 150)
    const secretKey = randomValue('aws-secret', 40)
    // AWS answering an error whose message quotes what it was sent (a proxy or stub may).
    const awsFetch: typeof fetch = async () =>
      Response.json(
        {
          __type: 'AccessDeniedException',
          message: `denied: session ${session}, key ${secretKey}, admin ${env.ADMIN_TOKEN}`,
        },
        { status: 400 }
      )
    const app = createApp({
      env: bindingsOnly,
      registry: new SecretRegistry({ stores: { fetch: awsFetch } }),
    })
    const bindings = {
      ...env,
      AWS_REGION: 'eu-west-1',
      AWS_ACCESS_KEY_ID: randomValue('aws-id', 20),
      AWS_SECRET_ACCESS_KEY: secretKey,
      AWS_SESSION_TOKEN: session,
      FYERS_ACCESS_TOKEN_AWS_SECRET: 'prod/fyers',
      LOG_LEVEL: 'silent',
    }
    const status = () =>
      app.request(
        '/admin/keys/status',
        { headers: { authorization: `Bearer ${env.ADMIN_TOKEN}` } },
        bindings
      )
    expect((await status()).status).toBe(200)
    const text = await (await status()).text()
    expect(text).toContain('AccessDeniedException')
    for (const value of [session, secretKey, env.ADMIN_TOKEN]) {
      expect(leaks(text, value)).toBeUndefined()
    }
  })
})

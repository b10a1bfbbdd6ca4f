/**
 * Credentials from AWS Secrets Manager (`NAME_AWS_SECRET`) and SSM Parameter Store
 * (`NAME_AWS_PARAMETER`) through `createApp()` and `app.request()`, against the AWS stub (which
 * verifies every SigV4 signature) and the Anthropic stub. Web APIs only: runs in Node and workerd.
 */
import { describe, expect, inject, it } from 'vitest'
import { createApp } from '../../src/app.ts'
import { bindingsOnly } from '../../src/env.ts'
import type { LogRecord } from '../../src/log/logger.ts'
import { SecretRegistry } from '../../src/secrets/registry.ts'
import type { StoreSourcesOptions } from '../../src/secrets/stores/store-sources.ts'
import { type AwsStubControl, awsStubControl } from '../stubs/aws-control.ts'
import { type StubControl, stubControl } from '../stubs/control.ts'
import { awayFromMinuteEdge, QUOTA_TEST_TIMEOUT_MS } from '../support/quota-window.ts'
import { leaks, randomValue } from './admin-harness.ts'

const FAST_RETRY = { maxRetries: 0, baseDelayMs: 5, maxDelayMs: 50 }

interface StoreFixture {
  readonly aws: AwsStubControl
  readonly anthropic: StubControl
  readonly env: Record<string, string>
  readonly logs: LogRecord[]
  readonly registry: SecretRegistry
  readonly adminToken: string
  /** Every secret value the test created: none may appear in a response or a log line. */
  readonly values: string[]
  message(env?: Record<string, string>): Promise<Response>
  admin(path: string, method?: string, body?: unknown): Promise<Response>
}

const fixture = async (
  env: Record<string, string> = {},
  stores: StoreSourcesOptions = {}
): Promise<StoreFixture> => {
  const stub = inject('awsStub')
  const [aws, anthropic] = await Promise.all([
    awsStubControl(stub.url).session(),
    stubControl(inject('stubs').anthropic).session(),
  ])
  const clientToken = randomValue('client token')
  const adminToken = randomValue('admin token')
  const bindings: Record<string, string> = {
    AWS_REGION: stub.region,
    AWS_ENDPOINT_URL: aws.url,
    AWS_ACCESS_KEY_ID: stub.accessKeyId,
    AWS_SECRET_ACCESS_KEY: stub.secretAccessKey,
    ANTHROPIC_BASE_URL: anthropic.url,
    KEYLINE_CLIENT_TOKENS: clientToken,
    ADMIN_TOKEN: adminToken,
    ...env,
  }
  const logs: LogRecord[] = []
  const registry = new SecretRegistry({ readFile: null, stores })
  const app = createApp({
    env: bindingsOnly,
    registry,
    retry: FAST_RETRY,
    logSink: (record) => logs.push(record),
  })
  return {
    aws,
    anthropic,
    env: bindings,
    logs,
    registry,
    adminToken,
    values: [clientToken, adminToken],
    message: async (override = {}) =>
      app.request(
        '/v1/messages',
        {
          method: 'POST',
          headers: { authorization: `Bearer ${clientToken}`, 'content-type': 'application/json' },
          body: JSON.stringify({
            model: 'claude-sonnet-4-5',
            max_tokens: 16,
            messages: [{ role: 'user', content: 'hi' }],
          }),
        },
        { ...bindings, ...override }
      ),
    admin: async (path, method = 'GET', body = undefined) =>
      app.request(
        `/admin${path}`,
        {
          method,
          headers: {
            authorization: `Bearer ${adminToken}`,
            ...(body === undefined ? {} : { 'content-type': 'application/json' }),
          },
          ...(body === undefined ? {} : { body: JSON.stringify(body) }),
        },
        bindings
      ),
  }
}

// No `test-`: with a random part starting `i`, its piece `est-i` is in every `request-id` header.
const anthropicKey = (): string => `sk-ant-${randomValue('anthropic key', 32)}`

/** Fails with the leaked piece when a value (or 5 characters of it) is in a body or a log line. */
const expectNoLeak = (f: StoreFixture, ...texts: string[]): void => {
  const all = [...texts, ...f.logs.map((l) => JSON.stringify(l))].join('\n')
  for (const value of f.values) expect(leaks(all, value)).toBeUndefined()
}

const secretCalls = async (aws: AwsStubControl, stage = 'AWSCURRENT'): Promise<number> =>
  (await aws.requests()).filter(
    (r) =>
      r.target === 'secretsmanager.GetSecretValue' &&
      (r.body?.VersionStage ?? 'AWSCURRENT') === stage
  ).length

interface StatusBody {
  providers: {
    anthropic: {
      configured: boolean
      source: string | null
      reasons: string[]
      issues: { reason: string; message: string }[]
      next: { validity: string; source: string } | null
      current: { fingerprint: string } | null
    }
    fyers: { configured: boolean; credentials: Record<string, { current: { source: string } }> }
  }
  stores: {
    variable: string
    configuredBy: string
    store: string
    source: string
    stage: string | null
    versionId: string | null
    present: boolean
    fetchedAt: string | null
    nextRefreshAt: string | null
    stale: boolean
    consecutiveFailures: number
    lastError: string | null
  }[]
}

const status = async (f: StoreFixture): Promise<{ body: StatusBody; text: string }> => {
  const response = await f.admin('/keys/status')
  expect(response.status).toBe(200)
  const text = await response.text()
  return { body: JSON.parse(text) as StatusBody, text }
}

describe('secrets from AWS Secrets Manager and SSM Parameter Store', {
  timeout: QUOTA_TEST_TIMEOUT_MS,
}, () => {
  it('ANTHROPIC_API_KEY_AWS_SECRET configures Anthropic: the key reaches upstream, the status names the source', async () => {
    const id = `keyline/${crypto.randomUUID()}`
    const f = await fixture({ ANTHROPIC_API_KEY_AWS_SECRET: id, KEYLINE_STORE_TTL_SECONDS: '600' })
    const key = anthropicKey()
    f.values.push(key)
    const { versionId } = await f.aws.putSecret(id, key)
    await f.anthropic.keys({ accept: [key] })
    const response = await f.message()
    expect(response.status).toBe(200)
    const [upstream] = await f.anthropic.requests()
    expect(upstream?.headers['x-api-key']).toBe(key)
    const { body, text } = await status(f)
    expect(body.providers.anthropic.source).toBe(`aws-sm:${id}`)
    const entry = body.stores.find((s) => s.variable === 'ANTHROPIC_API_KEY')
    expect(entry).toMatchObject({
      configuredBy: 'ANTHROPIC_API_KEY_AWS_SECRET',
      store: 'aws-sm',
      source: `aws-sm:${id}`,
      stage: 'AWSCURRENT',
      versionId,
      present: true,
      stale: false,
      lastError: null,
    })
    const fetchedAt = Date.parse(entry?.fetchedAt ?? '')
    const refreshIn = Date.parse(entry?.nextRefreshAt ?? '') - fetchedAt
    expect(refreshIn).toBeGreaterThanOrEqual(300_000)
    expect(refreshIn).toBeLessThanOrEqual(600_000)
    // No AWSPENDING staged: no next value.
    expect(body.providers.anthropic.next).toBeNull()
    expect(body.stores.find((s) => s.variable === 'ANTHROPIC_API_KEY_NEW')?.present).toBe(false)
    expectNoLeak(f, text)
  })

  it('reads a JSON field of a secret (`<id>#<field>`) and an SSM SecureString parameter', async () => {
    const id = `keyline/${crypto.randomUUID()}`
    const parameter = `/keyline/${crypto.randomUUID()}/fyers-token`
    const f = await fixture({
      ANTHROPIC_API_KEY_AWS_SECRET: `${id}#anthropic`,
      FYERS_CLIENT_ID_AWS_SECRET: `${id}#fyersClientId`,
      FYERS_ACCESS_TOKEN_AWS_PARAMETER: parameter,
    })
    const key = anthropicKey()
    const token = randomValue('fyers token')
    f.values.push(key, token)
    await f.aws.putSecret(id, JSON.stringify({ anthropic: key, fyersClientId: 'TESTAPP-100' }))
    await f.aws.putParameter(parameter, token)
    await f.anthropic.keys({ accept: [key] })
    expect((await f.message()).status).toBe(200)
    expect((await f.anthropic.requests())[0]?.headers['x-api-key']).toBe(key)
    const { body, text } = await status(f)
    expect(body.providers.fyers.configured).toBe(true)
    expect(body.providers.fyers.credentials.accessToken?.current.source).toBe(
      `aws-ssm:${parameter}`
    )
    expect(body.stores.find((s) => s.variable === 'FYERS_ACCESS_TOKEN')).toMatchObject({
      store: 'aws-ssm',
      versionId: '1',
    })
    // One GetSecretValue serves both fields.
    expect(await secretCalls(f.aws)).toBe(1)
    const ssm = (await f.aws.requests()).find((r) => r.target === 'AmazonSSM.GetParameter')
    expect(ssm?.body).toMatchObject({ Name: parameter, WithDecryption: true })
    expectNoLeak(f, text)
  })

  it('a key from the store is redacted from what the upstream echoes back, and from the logs', async () => {
    const id = `keyline/${crypto.randomUUID()}`
    const f = await fixture({ ANTHROPIC_API_KEY_AWS_SECRET: id })
    const key = anthropicKey()
    f.values.push(key)
    await f.aws.putSecret(id, key)
    await f.anthropic.fault({ kind: 'echo' })
    const response = await f.message()
    expect(response.status).toBeGreaterThanOrEqual(400)
    const headers = JSON.stringify([...response.headers])
    expectNoLeak(f, await response.text(), headers)
  })

  it('fetches lazily, once per TTL, with one fetch shared by concurrent requests', async () => {
    const id = `keyline/${crypto.randomUUID()}`
    const f = await fixture({ ANTHROPIC_API_KEY_AWS_SECRET: id })
    const key = anthropicKey()
    await f.aws.putSecret(id, key)
    await f.anthropic.keys({ accept: [key] })
    expect(await secretCalls(f.aws)).toBe(0)
    const answers = await Promise.all(Array.from({ length: 6 }, () => f.message()))
    expect(answers.map((r) => r.status)).toEqual([200, 200, 200, 200, 200, 200])
    expect((await f.message()).status).toBe(200)
    expect(await secretCalls(f.aws)).toBe(1)
  })

  it('a secret that cannot be read leaves the provider not configured, with the store error as the reason', async () => {
    const f = await fixture({ ANTHROPIC_API_KEY_AWS_SECRET: 'keyline/does-not-exist' })
    const response = await f.message()
    expect(response.status).toBe(503)
    const error = (await response.json()) as {
      error: { type: string; keyline_type: string; message: string }
    }
    expect(error.error.type).toBe('api_error')
    expect(error.error.keyline_type).toBe('provider_not_configured')
    expect(error.error.message).toContain('ANTHROPIC_API_KEY_AWS_SECRET')
    expect(error.error.message).toContain('ResourceNotFoundException')
    const { body } = await status(f)
    expect(body.providers.anthropic.reasons).toEqual(['store_unavailable'])
    expect(body.stores.find((s) => s.variable === 'ANTHROPIC_API_KEY')?.lastError).toMatch(
      /ResourceNotFoundException/
    )
  })

  it('a badly signed request (wrong AWS secret key) is rejected by the store: not configured, no key leaked', async () => {
    const id = `keyline/${crypto.randomUUID()}`
    const wrongKey = randomValue('wrong aws secret key')
    const f = await fixture({ ANTHROPIC_API_KEY_AWS_SECRET: id, AWS_SECRET_ACCESS_KEY: wrongKey })
    f.values.push(wrongKey)
    await f.aws.putSecret(id, anthropicKey())
    const response = await f.message()
    expect(response.status).toBe(503)
    const text = await response.text()
    expect(text).toContain('InvalidSignatureException')
    expect((await f.aws.requests()).every((r) => !r.signed)).toBe(true)
    expectNoLeak(f, text, (await status(f)).text)
  })

  it('ADMIN_TOKEN_AWS_SECRET: the admin token comes from the store', async () => {
    const id = `keyline/${crypto.randomUUID()}`
    const f = await fixture({ ADMIN_TOKEN: '', ADMIN_TOKEN_AWS_SECRET: id })
    // The fixture's admin() presents the token the fixture generated: store it in the stub.
    await f.aws.putSecret(id, f.adminToken)
    expect((await f.admin('/keys/status')).status).toBe(200)
  })

  it('KEYLINE_CLIENT_TOKENS_AWS_PARAMETER: the client tokens come from the store', async () => {
    const parameter = `/keyline/${crypto.randomUUID()}/client-tokens`
    const key = anthropicKey()
    const f = await fixture({
      ANTHROPIC_API_KEY: key,
      KEYLINE_CLIENT_TOKENS_AWS_PARAMETER: parameter,
    })
    await f.anthropic.keys({ accept: [key] })
    // The fixture's client token is not in the store yet: the proxy stays closed to it.
    await f.aws.putParameter(parameter, randomValue('another client token'))
    expect((await f.message({ KEYLINE_CLIENT_TOKENS: '' })).status).toBe(401)
    await f.aws.putParameter(parameter, f.values[0] as string)
    expect((await f.admin('/keys/reload', 'POST')).status).toBe(200)
    expect((await f.message({ KEYLINE_CLIENT_TOKENS: '' })).status).toBe(200)
  })

  it('KEYLINE_CLIENT_LIMITS_AWS_PARAMETER: the quotas come from the store and a reload re-reads them', async () => {
    const parameter = `/keyline/${crypto.randomUUID()}/client-limits`
    const key = anthropicKey()
    const f = await fixture({
      ANTHROPIC_API_KEY: key,
      KEYLINE_CLIENT_LIMITS_AWS_PARAMETER: parameter,
    })
    await f.anthropic.keys({ accept: [key] })
    await awayFromMinuteEdge()
    await f.aws.putParameter(parameter, 'ci:rpm=1')
    // The fixture's client token, named ci.
    const call = () => f.message({ KEYLINE_CLIENT_TOKENS: `ci=${f.values[0]}` })
    expect((await call()).status).toBe(200)
    expect((await call()).status).toBe(429)
    await f.aws.putParameter(parameter, 'ci:rpm=3')
    expect((await f.admin('/keys/reload', 'POST')).status).toBe(200)
    const answer = await call()
    expect(answer.status).toBe(200)
    expect(answer.headers.get('keyline-ratelimit-limit')).toBe('3')
    const status = (await (await f.admin('/keys/status')).json()) as { limits: { source: string } }
    expect(status.limits.source).toBe(`aws-ssm:${parameter}`)
  })

  it('NAME_AWS_SECRET_FIELD picks a field of a JSON secret (it survives .env files); the status names aws-sm:<id>#<field>', async () => {
    const id = `keyline/${crypto.randomUUID()}`
    const key = anthropicKey()
    const f = await fixture({
      KEYLINE_CLIENT_TOKENS: '',
      KEYLINE_CLIENT_TOKENS_AWS_SECRET: id,
      KEYLINE_CLIENT_TOKENS_AWS_SECRET_FIELD: 'clients',
      ANTHROPIC_API_KEY_AWS_SECRET: id,
      ANTHROPIC_API_KEY_AWS_SECRET_FIELD: 'anthropic',
    })
    f.values.push(key)
    await f.aws.putSecret(id, JSON.stringify({ clients: `ci=${f.values[0]}`, anthropic: key }))
    await f.anthropic.keys({ accept: [key] })
    expect((await f.message({ KEYLINE_CLIENT_TOKENS: '' })).status).toBe(200)
    const { body, text } = await status(f)
    const clients = (body as unknown as { clients: Record<string, unknown> }).clients
    expect(clients).toMatchObject({
      configured: true,
      source: `aws-sm:${id}#clients`,
      names: { ci: 1 },
    })
    expect(body.providers.anthropic.source).toBe(`aws-sm:${id}#anthropic`)
    expect(body.stores.find((s) => s.variable === 'KEYLINE_CLIENT_TOKENS')?.source).toBe(
      `aws-sm:${id}#clients`
    )
    expect(await secretCalls(f.aws)).toBe(1)
    expectNoLeak(f, text)
  })

  it('a JSON secret used whole (its #field lost to a .env comment) is an issue naming the field syntax, never a wrong value', async () => {
    const id = `keyline/${crypto.randomUUID()}`
    const key = anthropicKey()
    const f = await fixture({
      KEYLINE_CLIENT_TOKENS: '',
      // What dotenv and node --env-file make of an unquoted `NAME_AWS_SECRET=<id>#clients`.
      KEYLINE_CLIENT_TOKENS_AWS_SECRET: id,
      ANTHROPIC_API_KEY_AWS_SECRET: id,
    })
    f.values.push(key)
    // A comma inside: read whole, it used to become two "unnamed" client tokens.
    const other = randomValue('another client token')
    f.values.push(other)
    await f.aws.putSecret(
      id,
      JSON.stringify({ clients: `${f.values[0]},${other}`, anthropic: key })
    )
    const denied = await f.message({ KEYLINE_CLIENT_TOKENS: '' })
    expect(denied.status).toBe(401)
    const deniedText = await denied.text()
    expect(deniedText).toContain('secure store')
    const { body, text } = await status(f)
    const clients = (body as unknown as { clients: Record<string, unknown> }).clients
    expect(clients).toMatchObject({
      configured: false,
      problem: 'store_unavailable',
      source: `aws-sm:${id}`,
      count: 0,
    })
    expect(String(clients.message)).toContain('KEYLINE_CLIENT_TOKENS_AWS_SECRET_FIELD=<field>')
    expect(String(clients.message)).toContain('fields: clients, anthropic')
    expect(body.providers.anthropic.configured).toBe(false)
    expect(body.providers.anthropic.reasons).toEqual(['store_unavailable'])
    expect(body.providers.anthropic.issues[0]?.message).toContain(
      'ANTHROPIC_API_KEY_AWS_SECRET_FIELD=<field>'
    )
    expectNoLeak(f, text, deniedText)
  })

  it('rotation staged in Secrets Manager: AWSPENDING is next, reload validates it, promote, AWSCURRENT moves, no failed request', async () => {
    const id = `keyline/${crypto.randomUUID()}`
    const f = await fixture({ ANTHROPIC_API_KEY_AWS_SECRET: id, KEYLINE_STORE_TTL_SECONDS: '1' })
    const oldKey = anthropicKey()
    const newKey = anthropicKey()
    f.values.push(oldKey, newKey)
    await f.aws.putSecret(id, oldKey)
    await f.anthropic.keys({ accept: [oldKey] })
    expect((await f.message()).status).toBe(200)

    // Requests keep coming during the whole rotation: none may fail.
    const statuses: number[] = []
    let running = true
    const traffic = (async () => {
      while (running) {
        const response = await f.message()
        statuses.push(response.status)
        await response.body?.cancel()
      }
    })()

    await f.aws.putSecret(id, newKey, 'AWSPENDING')
    await f.anthropic.keys({ accept: [oldKey, newKey] })
    const reloaded = await f.admin('/keys/reload', 'POST')
    expect(reloaded.status).toBe(200)
    const afterReload = (await reloaded.json()) as StatusBody
    expect(afterReload.providers.anthropic.next).toMatchObject({
      validity: 'valid',
      source: `aws-sm:${id}`,
    })

    const promoted = await f.admin('/keys/promote', 'POST', { provider: 'anthropic' })
    expect(promoted.status).toBe(200)
    // The rotation finishes in Secrets Manager; the old key is revoked upstream at once.
    await f.aws.finishRotation(id)
    await f.anthropic.keys({ revoke: [oldKey] })
    // Within the TTL (1 s) keyline reads the new AWSCURRENT and drops its promotion override.
    await new Promise((resolve) => setTimeout(resolve, 1200))
    await expect
      .poll(async () => (await status(f)).body.providers.anthropic, { timeout: 5000 })
      .toMatchObject({ source: `aws-sm:${id}`, next: null })
    running = false
    await traffic
    expect(statuses.length).toBeGreaterThan(3)
    expect(statuses.filter((s) => s !== 200)).toEqual([])
    const keysUsed = new Set((await f.anthropic.requests()).map((r) => r.headers['x-api-key']))
    expect(keysUsed).toEqual(new Set([oldKey, newKey]))
    const last = (await f.anthropic.requests()).at(-1)
    expect(last?.headers['x-api-key']).toBe(newKey)
    expectNoLeak(f, (await status(f)).text)
  })

  it('a store outage costs no request: the cached key is served, the status says stale', async () => {
    const id = `keyline/${crypto.randomUUID()}`
    const f = await fixture(
      { ANTHROPIC_API_KEY_AWS_SECRET: id, KEYLINE_STORE_TTL_SECONDS: '1' },
      { timeoutMs: 300 }
    )
    const key = anthropicKey()
    f.values.push(key)
    await f.aws.putSecret(id, key)
    await f.anthropic.keys({ accept: [key] })
    expect((await f.message()).status).toBe(200)

    await f.aws.outage('error')
    await new Promise((resolve) => setTimeout(resolve, 1100))
    expect((await f.message()).status).toBe(200)
    const down = (await status(f)).body.stores.find((s) => s.variable === 'ANTHROPIC_API_KEY')
    expect(down).toMatchObject({ stale: true, present: true })
    expect(down?.consecutiveFailures).toBeGreaterThanOrEqual(1)
    expect(down?.lastError).toMatch(/ServiceUnavailable/)

    // A store that does not answer at all holds a request for the fetch timeout at most.
    await f.aws.outage('hang')
    f.registry.reload()
    const started = Date.now()
    expect((await f.message()).status).toBe(200)
    // Timeout 300 ms: the middleware and the registry wait for the same fetch's deadline.
    expect(Date.now() - started).toBeLessThan(550)

    await f.aws.outage(null)
    await f.admin('/keys/reload', 'POST')
    const up = (await status(f)).body.stores.find((s) => s.variable === 'ANTHROPIC_API_KEY')
    expect(up).toMatchObject({ stale: false, lastError: null, consecutiveFailures: 0 })
    expect((await f.message()).status).toBe(200)
    expectNoLeak(f, JSON.stringify(up))
  })
})

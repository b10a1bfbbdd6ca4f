import { afterAll, beforeAll, expect, it } from 'vitest'
import { startAnthropicStub } from '../stubs/anthropic.ts'
import { type StartedAwsStub, startAwsStub } from '../stubs/aws.ts'
import { type AwsStubControl, awsStubControl } from '../stubs/aws-control.ts'
import { type StubControl, stubControl } from '../stubs/control.ts'
import type { StartedStub } from '../stubs/stub-server.ts'
import { describeRuntimes, type RuntimeContext } from './harness/describe-runtimes.ts'
import type { RuntimeName } from './harness/runtimes.ts'

/**
 * `ANTHROPIC_API_KEY_AWS_SECRET` on every runtime (node, workerd, deno) with static AWS keys,
 * against the AWS stub (which verifies each SigV4 signature) and a stub Anthropic: the key from
 * Secrets Manager reaches upstream; a rotation staged as `AWSPENDING` is validated on reload,
 * promoted, and survives `AWSCURRENT` moving, with no failed request; a store outage costs no
 * request; no value appears in the server's output or the status. On node and deno, the AWS SDK's
 * credential chain (container credentials) signs instead of static keys.
 */
const CLIENT_TOKEN = `kl-test-${crypto.randomUUID()}`
const ADMIN_TOKEN = `admin-test-${crypto.randomUUID()}`
const newKey = (): string => `sk-ant-test-${crypto.randomUUID()}`

let anthropicStub: StartedStub
let awsStub: StartedAwsStub
const sessions = new Map<string, { aws: AwsStubControl; anthropic: StubControl; id: string }>()
const values = new Map<string, string[]>()

beforeAll(async () => {
  ;[anthropicStub, awsStub] = await Promise.all([startAnthropicStub(), startAwsStub()])
})
afterAll(async () => {
  await Promise.all([anthropicStub?.close(), awsStub?.close()])
})

const send = async (ctx: RuntimeContext): Promise<number> => {
  const response = await ctx.fetch('/v1/messages', {
    method: 'POST',
    headers: { authorization: `Bearer ${CLIENT_TOKEN}`, 'content-type': 'application/json' },
    body: JSON.stringify({
      model: 'claude-test',
      max_tokens: 16,
      messages: [{ role: 'user', content: 'hello' }],
    }),
  })
  await response.body?.cancel()
  return response.status
}

const admin = async (ctx: RuntimeContext, path: string, body?: unknown): Promise<Response> =>
  ctx.fetch(`/admin${path}`, {
    method: body === undefined && path === '/keys/status' ? 'GET' : 'POST',
    headers: {
      authorization: `Bearer ${ADMIN_TOKEN}`,
      ...(body === undefined ? {} : { 'content-type': 'application/json' }),
    },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  })

interface Status {
  providers: { anthropic: { source: string | null; next: { validity: string } | null } }
  stores: { variable: string; stale: boolean; lastError: string | null; versionId: string | null }[]
}

const status = async (ctx: RuntimeContext): Promise<{ body: Status; text: string }> => {
  const response = await admin(ctx, '/keys/status')
  expect(response.status).toBe(200)
  const text = await response.text()
  return { body: JSON.parse(text) as Status, text }
}

/** No value (or 8 characters of one) in `text`. */
const expectNoValues = (runtime: string, text: string): void => {
  for (const value of values.get(runtime) ?? []) {
    expect(text).not.toContain(value)
    expect(text).not.toContain(value.slice(-12, -4))
  }
}

const storeBindings = async (
  runtime: RuntimeName,
  credentials: 'static' | 'chain'
): Promise<Record<string, string>> => {
  const [aws, anthropic] = await Promise.all([
    awsStubControl(awsStub.url).session(),
    stubControl(anthropicStub.url).session(),
  ])
  const id = `keyline/${runtime}/${crypto.randomUUID()}`
  const key = newKey()
  await aws.putSecret(id, key)
  await anthropic.keys({ accept: [key] })
  sessions.set(`${runtime}:${credentials}`, { aws, anthropic, id })
  values.set(runtime, [...(values.get(runtime) ?? []), key])
  return {
    ANTHROPIC_API_KEY_AWS_SECRET: id,
    ANTHROPIC_BASE_URL: anthropic.url,
    AWS_REGION: awsStub.region,
    AWS_ENDPOINT_URL: aws.url,
    ...(credentials === 'static'
      ? {
          AWS_ACCESS_KEY_ID: awsStub.credentials.accessKeyId,
          AWS_SECRET_ACCESS_KEY: awsStub.credentials.secretAccessKey,
        }
      : { AWS_CONTAINER_CREDENTIALS_FULL_URI: awsStub.containerCredentialsUrl }),
    KEYLINE_STORE_TTL_SECONDS: '2',
    KEYLINE_CLIENT_TOKENS: CLIENT_TOKEN,
    ADMIN_TOKEN,
  }
}

describeRuntimes(
  'secrets from AWS Secrets Manager',
  (ctx) => {
    const session = () =>
      sessions.get(`${ctx.runtime}:static`) as NonNullable<ReturnType<typeof sessions.get>>

    it('the key from Secrets Manager reaches upstream; the status names aws-sm:<id>', async () => {
      expect(await send(ctx)).toBe(200)
      const { aws, anthropic, id } = session()
      const [key] = values.get(ctx.runtime) ?? []
      expect((await anthropic.requests()).at(-1)?.headers['x-api-key']).toBe(key)
      const { body, text } = await status(ctx)
      expect(body.providers.anthropic.source).toBe(`aws-sm:${id}`)
      expect(body.stores.find((s) => s.variable === 'ANTHROPIC_API_KEY')?.versionId).toEqual(
        expect.any(String)
      )
      expect((await aws.requests()).every((r) => r.signed)).toBe(true)
      expectNoValues(ctx.runtime, text)
    })

    it('rotation: AWSPENDING staged, reload → next valid, promote, AWSCURRENT moves; no failed request', async () => {
      const { aws, anthropic, id } = session()
      const [oldKey] = values.get(ctx.runtime) ?? []
      const next = newKey()
      values.get(ctx.runtime)?.push(next)
      const statuses: number[] = []
      let running = true
      const traffic = (async () => {
        while (running) statuses.push(await send(ctx))
      })()

      await aws.putSecret(id, next, 'AWSPENDING')
      await anthropic.keys({ accept: [oldKey as string, next] })
      const reload = await admin(ctx, '/keys/reload', {})
      expect(reload.status).toBe(200)
      const reloaded = (await reload.json()) as Status
      expect(reloaded.providers.anthropic.next?.validity).toBe('valid')
      const promote = await admin(ctx, '/keys/promote', { provider: 'anthropic' })
      expect(promote.status).toBe(200)
      await aws.finishRotation(id)
      await anthropic.keys({ revoke: [oldKey as string] })
      // Converges on the new AWSCURRENT within the TTL (2 s), with no reload.
      expect((await status(ctx)).body.providers.anthropic.source).toBe(
        'promoted:ANTHROPIC_API_KEY_NEW'
      )
      await expect
        .poll(async () => (await status(ctx)).body.providers.anthropic, {
          timeout: 10_000,
          interval: 500,
        })
        .toMatchObject({ source: `aws-sm:${id}`, next: null })
      await new Promise((resolve) => setTimeout(resolve, 500))
      running = false
      await traffic
      expect(statuses.length).toBeGreaterThan(3)
      expect(statuses.filter((s) => s !== 200)).toEqual([])
      expect((await anthropic.requests()).at(-1)?.headers['x-api-key']).toBe(next)
    })

    it('a store outage costs no request: the cached key keeps serving, the status says stale', async () => {
      const { aws } = session()
      await aws.outage('error')
      try {
        // Past the TTL: refreshes fail, the cached key is served.
        await new Promise((resolve) => setTimeout(resolve, 2200))
        for (let i = 0; i < 3; i++) expect(await send(ctx)).toBe(200)
        await expect
          .poll(
            async () =>
              (await status(ctx)).body.stores.find((s) => s.variable === 'ANTHROPIC_API_KEY'),
            { timeout: 10_000, interval: 500 }
          )
          .toMatchObject({ stale: true, lastError: expect.stringMatching(/ServiceUnavailable/) })
      } finally {
        await aws.outage(null)
      }
      expect(await send(ctx)).toBe(200)
      expectNoValues(ctx.runtime, (await status(ctx)).text)
      expectNoValues(ctx.runtime, ctx.server.output())
    })
  },
  { bindings: ({ runtime }) => storeBindings(runtime, 'static') }
)

describeRuntimes(
  'secrets from AWS Secrets Manager, signed with the AWS credential chain',
  (ctx) => {
    it('container credentials (AWS_CONTAINER_CREDENTIALS_FULL_URI) sign the store call', async () => {
      expect(await send(ctx)).toBe(200)
      const { aws } = sessions.get(`${ctx.runtime}:chain`) as { aws: AwsStubControl }
      const calls = await aws.requests()
      expect(calls.length).toBeGreaterThan(0)
      expect(calls.every((r) => r.signed)).toBe(true)
      expectNoValues(ctx.runtime, ctx.server.output())
    })
  },
  { runtimes: ['node', 'deno'], bindings: ({ runtime }) => storeBindings(runtime, 'chain') }
)

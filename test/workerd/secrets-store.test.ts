/**
 * Cloudflare Secrets Store bindings (`[[secrets_store_secrets]]`, miniflare's
 * `secretsStoreSecrets` in vitest.config.ts) as credentials, inside workerd: a binding named
 * `ANTHROPIC_API_KEY` is read with `await env.ANTHROPIC_API_KEY.get()`, cached, refetched on
 * `POST /admin/keys/reload`, and named `secrets-store:<binding>` in the status.
 */
import { adminSecretsStore, env } from 'cloudflare:test'
import { afterAll, beforeAll, expect, inject, it } from 'vitest'
import { createApp } from '../../src/app.ts'
import type { LogRecord } from '../../src/log/logger.ts'
import { type StubControl, stubControl } from '../stubs/control.ts'
import { leaks, randomValue } from '../unit/admin-harness.ts'

const binding = env.KEYLINE_TEST_STORE_SECRET
const admin = adminSecretsStore(binding)
let secretId: string
let anthropic: StubControl
const clientToken = randomValue('client token')
const adminToken = randomValue('admin token')
const firstKey = `sk-ant-test-${randomValue('first key', 32)}`
const logs: LogRecord[] = []
const app = createApp({ logSink: (record) => logs.push(record), retry: { maxRetries: 0 } })

beforeAll(async () => {
  anthropic = await stubControl(inject('stubs').anthropic).session()
  secretId = await admin.create(firstKey)
})
afterAll(() => {
  admin[Symbol.dispose]()
})

const bindings = (): Record<string, unknown> => ({
  ANTHROPIC_API_KEY: binding,
  ANTHROPIC_BASE_URL: anthropic.url,
  KEYLINE_CLIENT_TOKENS: clientToken,
  ADMIN_TOKEN: adminToken,
})

const message = (): Promise<Response> =>
  Promise.resolve(
    app.request(
      '/v1/messages',
      {
        method: 'POST',
        headers: { authorization: `Bearer ${clientToken}`, 'content-type': 'application/json' },
        body: JSON.stringify({
          model: 'claude-sonnet-4-5',
          max_tokens: 8,
          messages: [{ role: 'user', content: 'hi' }],
        }),
      },
      bindings()
    )
  )

const adminCall = (path: string, method = 'GET'): Promise<Response> =>
  Promise.resolve(
    app.request(
      `/admin${path}`,
      { method, headers: { authorization: `Bearer ${adminToken}` } },
      bindings()
    )
  )

it('a Secrets Store binding named ANTHROPIC_API_KEY configures Anthropic', async () => {
  await anthropic.keys({ accept: [firstKey] })
  const response = await message()
  expect(response.status).toBe(200)
  expect((await anthropic.requests()).at(-1)?.headers['x-api-key']).toBe(firstKey)
  const status = await adminCall('/keys/status')
  const text = await status.text()
  const body = JSON.parse(text) as {
    providers: { anthropic: { source: string } }
    stores: { variable: string; store: string; source: string; fetchedAt: string | null }[]
  }
  expect(body.providers.anthropic.source).toBe('secrets-store:ANTHROPIC_API_KEY')
  expect(body.stores).toEqual([
    expect.objectContaining({
      variable: 'ANTHROPIC_API_KEY',
      store: 'secrets-store',
      source: 'secrets-store:ANTHROPIC_API_KEY',
      fetchedAt: expect.any(String),
    }),
  ])
  expect(leaks(text, firstKey)).toBeUndefined()
})

it('a value updated in the store is used after POST /admin/keys/reload, and never logged', async () => {
  const rotated = `sk-ant-test-${randomValue('rotated key', 32)}`
  await admin.update(rotated, secretId)
  await anthropic.keys({ accept: [firstKey, rotated] })
  // Cached: the old value until the TTL or a reload.
  expect((await message()).status).toBe(200)
  expect((await anthropic.requests()).at(-1)?.headers['x-api-key']).toBe(firstKey)
  const reload = await adminCall('/keys/reload', 'POST')
  expect(reload.status).toBe(200)
  expect((await message()).status).toBe(200)
  expect((await anthropic.requests()).at(-1)?.headers['x-api-key']).toBe(rotated)
  const logged = logs.map((l) => JSON.stringify(l)).join('\n')
  expect(leaks(logged, firstKey)).toBeUndefined()
  expect(leaks(logged, rotated)).toBeUndefined()
})

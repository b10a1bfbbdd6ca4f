/// <reference lib="deno.ns" />
import assert from 'node:assert/strict'
import { Hono } from 'hono'
import { variablesOf } from '../../src/catalog/definitions.ts'
import { providerDefinitions } from '../../src/catalog/providers.ts'
import { onError, type SecretsVariables, secrets } from '../../src/index.ts'
import { type DenoUpstream, startUpstream } from './support/upstream.ts'

/**
 * A user's own Deno app, written as the README shows it (`app.use(secrets())`, no options):
 * secrets come from `Deno.env` and `NAME_FILE` files (read by default), and the clients fail
 * over to the staged next secret. The upstream is a tiny server speaking Anthropic's and
 * Fyers' wire formats on loopback.
 */
const KEY = `sk-ant-test-${crypto.randomUUID()}`
const CLIENT_ID = 'TESTAPP-100'
const TOKEN = `test-token-${crypto.randomUUID()}`

const upstream = (): DenoUpstream => startUpstream({ key: KEY, clientId: CLIENT_ID, token: TOKEN })

const VARIABLES = Object.values(providerDefinitions).flatMap((d) => variablesOf(d))

const withEnv = async (env: Record<string, string>, body: () => Promise<void>): Promise<void> => {
  const saved = new Map<string, string>()
  for (const name of VARIABLES) {
    const value = Deno.env.get(name)
    if (value !== undefined) saved.set(name, value)
    Deno.env.delete(name)
  }
  for (const [name, value] of Object.entries(env)) Deno.env.set(name, value)
  try {
    await body()
  } finally {
    for (const name of VARIABLES) Deno.env.delete(name)
    for (const [name, value] of saved) Deno.env.set(name, value)
  }
}

const userApp = () => {
  const app = new Hono<{ Variables: SecretsVariables }>()
  app.use(secrets())
  app.get('/summary', async (c) => {
    const message = await c.var.anthropic.messages.create({
      model: 'claude-sonnet-5-5',
      max_tokens: 256,
      messages: [{ role: 'user', content: 'Summarise the market' }],
    })
    const quotes = await c.var.fyers.quotes(['NSE:SBIN-EQ'])
    return c.json({ message, quotes })
  })
  app.onError(onError)
  return app
}

Deno.test('a user app on Deno reads ANTHROPIC_API_KEY_FILE by default', async () => {
  const stub = upstream()
  const dir = await Deno.makeTempDir()
  try {
    await Deno.writeTextFile(`${dir}/anthropic`, `${KEY}\n`)
    await withEnv(
      {
        ANTHROPIC_API_KEY_FILE: `${dir}/anthropic`,
        ANTHROPIC_BASE_URL: stub.url,
        FYERS_CLIENT_ID: CLIENT_ID,
        FYERS_ACCESS_TOKEN: TOKEN,
        FYERS_BASE_URL: stub.url,
      },
      async () => {
        const response = await userApp().request('/summary')
        assert.equal(response.status, 200)
        const body = (await response.json()) as { message: { type: string }; quotes: { s: string } }
        assert.equal(body.message.type, 'message')
        assert.equal(body.quotes.s, 'ok')
      }
    )
  } finally {
    await Deno.remove(dir, { recursive: true })
    await stub.close()
  }
})

Deno.test('a user app on Deno fails over to the staged next key and token', async () => {
  const stub = upstream()
  try {
    await withEnv(
      {
        ANTHROPIC_API_KEY: `sk-ant-revoked-${crypto.randomUUID()}`,
        ANTHROPIC_API_KEY_NEW: KEY,
        ANTHROPIC_BASE_URL: stub.url,
        FYERS_CLIENT_ID: CLIENT_ID,
        FYERS_ACCESS_TOKEN: `revoked-${crypto.randomUUID()}`,
        FYERS_ACCESS_TOKEN_NEW: TOKEN,
        FYERS_BASE_URL: stub.url,
      },
      async () => {
        const response = await userApp().request('/summary')
        assert.equal(response.status, 200)
        // each provider: the rejected current secret, then the next one
        assert.deepEqual(stub.seen, [
          '/v1/messages',
          '/v1/messages',
          '/data/quotes',
          '/data/quotes',
        ])
      }
    )
  } finally {
    await stub.close()
  }
})

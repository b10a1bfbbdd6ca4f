/// <reference lib="deno.ns" />
import assert from 'node:assert/strict'
import { Hono } from 'hono'
import { onError, type SecretsVariables, secrets } from '../../src/index.ts'
import { startAwsStub } from '../stubs/aws.ts'
import { awsStubControl } from '../stubs/aws-control.ts'
import { type DenoUpstream, startUpstream } from './support/upstream.ts'

/**
 * A user's own Deno app (`app.use(secrets())`) with its Anthropic key in AWS Secrets Manager and
 * its Fyers token in SSM Parameter Store, named in `Deno.env`: the values reach the upstream
 * (a loopback server speaking both wire formats), `c.var.secrets` names the stores, and a store
 * outage past the TTL keeps the cached values serving. The AWS stub verifies every signature.
 */
const KEY = `sk-ant-test-${crypto.randomUUID()}`
const CLIENT_ID = 'TESTAPP-100'
const TOKEN = `test-token-${crypto.randomUUID()}`

const upstream = (): DenoUpstream => startUpstream({ key: KEY, clientId: CLIENT_ID, token: TOKEN })

Deno.test('a user app on Deno reads NAME_AWS_SECRET and NAME_AWS_PARAMETER from Deno.env', async () => {
  const aws = await startAwsStub()
  const stub = upstream()
  const control = awsStubControl(aws.url)
  const id = `keyline/deno/${crypto.randomUUID()}`
  await control.putSecret(id, KEY)
  await control.putParameter('/keyline/fyers-token', TOKEN)
  const env: Record<string, string> = {
    ANTHROPIC_API_KEY_AWS_SECRET: id,
    ANTHROPIC_BASE_URL: stub.url,
    FYERS_CLIENT_ID: CLIENT_ID,
    FYERS_ACCESS_TOKEN_AWS_PARAMETER: '/keyline/fyers-token',
    FYERS_BASE_URL: stub.url,
    AWS_REGION: aws.region,
    AWS_ENDPOINT_URL: aws.url,
    AWS_ACCESS_KEY_ID: aws.credentials.accessKeyId,
    AWS_SECRET_ACCESS_KEY: aws.credentials.secretAccessKey,
    KEYLINE_STORE_TTL_SECONDS: '1',
  }
  for (const [name, value] of Object.entries(env)) Deno.env.set(name, value)
  try {
    const app = new Hono<{ Variables: SecretsVariables }>()
    app.use(secrets())
    app.get('/summary', async (c) => {
      const message = await c.var.anthropic.messages.create({
        model: 'claude-sonnet-5-5',
        max_tokens: 16,
        messages: [{ role: 'user', content: 'hi' }],
      })
      const quotes = await c.var.fyers.quotes(['NSE:SBIN-EQ'])
      const sources = {
        anthropic: c.var.secrets.anthropic.credentials.apiKey.current?.source,
        fyers: c.var.secrets.fyers.credentials.accessToken.current?.source,
      }
      return c.json({ type: message.type, quotes: quotes.s, sources })
    })
    app.onError(onError)

    const first = await app.request('/summary')
    assert.equal(first.status, 200)
    assert.deepEqual(await first.json(), {
      type: 'message',
      quotes: 'ok',
      sources: { anthropic: `aws-sm:${id}`, fyers: 'aws-ssm:/keyline/fyers-token' },
    })

    await control.outage('error')
    await new Promise((resolve) => setTimeout(resolve, 1100))
    const during = await app.request('/summary')
    assert.equal(during.status, 200)
    const text = await during.text()
    assert.ok(!text.includes(KEY) && !text.includes(TOKEN))
    const calls = await control.requests()
    assert.ok(calls.some((r) => r.error === 'ServiceUnavailable'))
    assert.ok(calls.filter((r) => r.status === 200).every((r) => r.signed))
  } finally {
    for (const name of Object.keys(env)) Deno.env.delete(name)
    await stub.close()
    await aws.close()
  }
})

import Anthropic, {
  APIConnectionError,
  AuthenticationError,
  InternalServerError,
  RateLimitError,
} from '@anthropic-ai/sdk'
import { afterAll, beforeAll, beforeEach, describe, expect, inject, it } from 'vitest'
import { startAnthropicStub } from '../stubs/anthropic.ts'
import { type StubControl, stubControl } from '../stubs/control.ts'
import { generateStubKeys, stubOptionsFor } from '../stubs/fixtures.ts'
import { appIdHash, startFyersStub } from '../stubs/fyers.ts'
import type { StartedStub } from '../stubs/stub-server.ts'

const keys = generateStubKeys()
const options = stubOptionsFor(keys)
const MODEL = 'claude-haiku-5-5'
const ask = { model: MODEL, max_tokens: 64, messages: [{ role: 'user' as const, content: 'hi' }] }

let anthropic: StartedStub
let fyers: StartedStub
let ctlA: StubControl
let ctlF: StubControl

beforeAll(async () => {
  ;[anthropic, fyers] = await Promise.all([
    startAnthropicStub(options.anthropic),
    startFyersStub(options.fyers),
  ])
  ctlA = stubControl(anthropic.url)
  ctlF = stubControl(fyers.url)
})
afterAll(async () => {
  await Promise.all([anthropic?.close(), fyers?.close()])
})
beforeEach(async () => {
  await Promise.all([ctlA.reset(), ctlF.reset()])
})

const client = (apiKey = keys.anthropic.apiKey, baseURL = anthropic.url) =>
  new Anthropic({ apiKey, baseURL, maxRetries: 0 })

const fyersGet = (path: string, auth = `${keys.fyers.clientId}:${keys.fyers.accessToken}`) =>
  fetch(`${fyers.url}${path}`, { headers: { authorization: auth } })

describe('Anthropic stub, through @anthropic-ai/sdk', () => {
  it('answers messages.create with a real Message', async () => {
    const message = await client().messages.create(ask)
    expect(message).toMatchObject({
      type: 'message',
      role: 'assistant',
      model: MODEL,
      stop_reason: 'end_turn',
      stop_sequence: null,
      content: [{ type: 'text' }],
    })
    expect(message.id).toMatch(/^msg_/)
    expect(message.usage.input_tokens).toBeGreaterThan(0)
    expect(message.usage.output_tokens).toBeGreaterThan(0)
  })

  it('streams the real SSE sequence and a final message with usage', async () => {
    const stream = client().messages.stream(ask)
    const types: string[] = []
    for await (const event of stream) types.push(event.type)
    const final = await stream.finalMessage()
    expect(types[0]).toBe('message_start')
    expect(types.slice(-3)).toEqual(['content_block_stop', 'message_delta', 'message_stop'])
    expect(types.filter((t) => t === 'content_block_delta').length).toBeGreaterThan(2)
    expect(final.usage.output_tokens).toBeGreaterThan(0)
    expect(final.stop_reason).toBe('end_turn')
    expect(final.content[0]).toMatchObject({ type: 'text' })
  })

  it('sends the raw event lines, ping included', async () => {
    const response = await fetch(`${anthropic.url}/v1/messages`, {
      method: 'POST',
      headers: {
        'x-api-key': keys.anthropic.apiKey,
        'anthropic-version': '2023-06-01',
        'content-type': 'application/json',
      },
      body: JSON.stringify({ ...ask, stream: true }),
    })
    expect(response.headers.get('content-type')).toMatch(/^text\/event-stream/)
    expect(response.headers.get('request-id')).toMatch(/^req_/)
    const text = await response.text()
    const events = [...text.matchAll(/^event: (\S+)\ndata: (.*)\n\n/gm)].map((m) => m[1])
    expect(events.slice(0, 3)).toEqual(['message_start', 'content_block_start', 'ping'])
    expect(events.at(-1)).toBe('message_stop')
  })

  it('lists models', async () => {
    const page = await client().models.list()
    expect(page.data.length).toBeGreaterThan(0)
    expect(page.data[0]).toMatchObject({ type: 'model', id: expect.any(String) })
    expect(page.data[0]?.display_name).toBeTruthy()
  })

  it('rejects a wrong key with AuthenticationError and a request id', async () => {
    const error = await client('sk-ant-test-wrong')
      .models.list()
      .catch((e: unknown) => e)
    expect(error).toBeInstanceOf(AuthenticationError)
    const e = error as AuthenticationError
    expect(e.requestID).toMatch(/^req_/)
    expect(e.type).toBe('authentication_error')
    expect((e.error as { request_id: string }).request_id).toBe(e.requestID)
  })

  it('requires anthropic-version', async () => {
    const response = await fetch(`${anthropic.url}/v1/models`, {
      headers: { 'x-api-key': keys.anthropic.apiKey },
    })
    expect(response.status).toBe(400)
    expect(await response.json()).toMatchObject({
      type: 'error',
      error: { type: 'invalid_request_error' },
    })
  })

  it('turns a 529 fault into an overloaded InternalServerError', async () => {
    await ctlA.fault({ kind: 'status', status: 529 })
    const error = await client()
      .messages.create(ask)
      .catch((e: unknown) => e)
    expect(error).toBeInstanceOf(InternalServerError)
    expect((error as InternalServerError).type).toBe('overloaded_error')
    expect(await client().messages.create(ask)).toMatchObject({ type: 'message' })
  })

  it('sends retry-after headers with a 429 fault', async () => {
    await ctlA.fault({ kind: 'status', status: 429, retryAfter: 7, retryAfterMs: 7000 })
    const error = (await client()
      .messages.create(ask)
      .catch((e: unknown) => e)) as RateLimitError
    expect(error).toBeInstanceOf(RateLimitError)
    expect(error.headers.get('retry-after')).toBe('7')
    expect(error.headers.get('retry-after-ms')).toBe('7000')
  })

  it('rotates keys at runtime', async () => {
    const next = `sk-ant-test-${crypto.randomUUID()}`
    await ctlA.keys({ accept: [next], revoke: [keys.anthropic.apiKey] })
    await expect(client(next).models.list()).resolves.toBeDefined()
    await expect(client().models.list()).rejects.toBeInstanceOf(AuthenticationError)
  })

  it('records requests with all headers and the body', async () => {
    await client().messages.create(ask)
    const [request] = await ctlA.requests()
    expect(request).toMatchObject({ method: 'POST', path: '/v1/messages', status: 200 })
    expect(request?.headers['anthropic-version']).toBeTruthy()
    expect(request?.headers.authorization).toBe(`Bearer ${keys.anthropic.apiKey}`)
    expect(JSON.parse(request?.body ?? '{}')).toMatchObject({ model: MODEL })
  })

  it('resets the connection mid-stream', async () => {
    await ctlA.fault({ kind: 'reset', afterEvents: 3 })
    const stream = client().messages.stream(ask)
    const seen: string[] = []
    const error = await (async () => {
      for await (const event of stream) seen.push(event.type)
    })().catch((e: unknown) => e)
    expect(error).toBeInstanceOf(Error)
    expect(seen).not.toContain('message_stop')
  })

  it('holds the last event at the gate until released', async () => {
    await ctlA.fault({ kind: 'drip', intervalMs: 5, gate: true })
    const stream = client().messages.stream(ask)
    const done = stream.finalMessage()
    await ctlA.waitForGate(1)
    expect((await ctlA.state()).gate.waiting).toBe(1)
    await ctlA.release()
    expect((await done).stop_reason).toBe('end_turn')
  })

  it('answers malformed JSON', async () => {
    await ctlA.fault({ kind: 'malformed' })
    await expect(client().messages.create(ask)).rejects.toThrow()
  })

  it('redirects to an evil target that counts hits', async () => {
    await ctlA.fault({ kind: 'redirect', status: 302, target: 'host' })
    const response = await fetch(`${anthropic.url}/v1/models`, { redirect: 'manual' })
    expect(response.status).toBe(302)
    const location = response.headers.get('location') ?? ''
    expect(new URL(location).origin).not.toBe(anthropic.url)
    expect((await ctlA.state()).evilHits).toBe(0)
    await fetch(location)
    expect((await ctlA.state()).evilHits).toBe(1)
  })

  it('echoes the received key in the echo fault', async () => {
    await ctlA.fault({ kind: 'echo' })
    const error = (await client()
      .models.list()
      .catch((e: unknown) => e)) as AuthenticationError
    expect(error.message).toContain(keys.anthropic.apiKey)
    expect(error.headers.get('x-echo-credential')).toContain(keys.anthropic.apiKey)
  })

  it('waits for a latency fault before the headers', async () => {
    await ctlA.fault({ kind: 'latency', ms: 150 })
    const started = Date.now()
    await client().models.list()
    expect(Date.now() - started).toBeGreaterThanOrEqual(140)
  })

  it('resets the connection before the headers of a plain request', async () => {
    await ctlA.fault({ kind: 'reset' })
    await expect(client().messages.create(ask)).rejects.toBeInstanceOf(APIConnectionError)
  })

  it('counts hits of a same-host redirect target when followed', async () => {
    await ctlA.fault({ kind: 'redirect' })
    const response = await fetch(`${anthropic.url}/v1/models`)
    expect(await response.json()).toMatchObject({ evil: true, path: '/__evil/v1/models' })
    expect((await ctlA.state()).evilHits).toBe(1)
    expect((await ctlA.requests()).map((r) => [r.path, r.status])).toEqual([
      ['/v1/models', 307],
      ['/__evil/v1/models', 200],
    ])
  })

  it('counts tokens', async () => {
    const count = await client().messages.countTokens({ model: MODEL, messages: ask.messages })
    expect(count.input_tokens).toBeGreaterThan(0)
  })

  it('applies a persistent mode until cleared, matching by path', async () => {
    await ctlA.mode({ kind: 'status', status: 500, path: '/v1/messages' })
    await expect(client().messages.create(ask)).rejects.toBeInstanceOf(InternalServerError)
    await expect(client().messages.create(ask)).rejects.toBeInstanceOf(InternalServerError)
    await expect(client().models.list()).resolves.toBeDefined()
    await ctlA.mode(null)
    await expect(client().messages.create(ask)).resolves.toBeDefined()
  })

  it('isolates sessions', async () => {
    const session = await ctlA.session()
    await session.fault({ kind: 'status', status: 500 })
    await expect(client().models.list()).resolves.toBeDefined()
    await expect(client(undefined, session.url).models.list()).rejects.toBeInstanceOf(
      InternalServerError
    )
    expect((await session.requests()).map((r) => r.path)).toEqual(['/v1/models'])
  })
})

describe('Fyers stub', () => {
  it('answers quotes in the v3 envelope', async () => {
    const response = await fyersGet('/data/quotes?symbols=NSE:SBIN-EQ,NSE:NOPE-EQ')
    expect(response.status).toBe(200)
    const body = await response.json()
    expect(body).toMatchObject({ s: 'ok', code: 200, message: '' })
    expect(body.d[0]).toMatchObject({
      n: 'NSE:SBIN-EQ',
      s: 'ok',
      v: { short_name: 'SBIN-EQ', exchange: 'NSE', symbol: 'NSE:SBIN-EQ', lp: expect.any(Number) },
    })
    expect(body.d[1]).toEqual({
      n: 'NSE:NOPE-EQ',
      s: 'error',
      v: { errmsg: 'Invalid symbol', code: -300 },
    })
  })

  it('answers the profile', async () => {
    const body = await (await fyersGet('/api/v3/profile')).json()
    expect(body).toMatchObject({
      s: 'ok',
      code: 200,
      data: { fy_id: 'XX00000', name: 'TEST USER' },
    })
  })

  it('rejects an unknown token with 401 and code -16', async () => {
    const response = await fyersGet('/api/v3/profile', `${keys.fyers.clientId}:nope`)
    expect(response.status).toBe(401)
    expect(await response.json()).toEqual({
      s: 'error',
      code: -16,
      message: 'Could not authenticate the user',
    })
  })

  it('answers -15 and rate limits as faults', async () => {
    await ctlF.fault(
      { kind: 'status', status: 401, code: -15 },
      { kind: 'status', status: 429 },
      { kind: 'status', status: 200, code: -353 }
    )
    const a = await fyersGet('/api/v3/profile')
    expect([a.status, (await a.json()).code]).toEqual([401, -15])
    const b = await fyersGet('/api/v3/profile')
    expect([b.status, (await b.json()).code]).toEqual([429, -353])
    const c = await fyersGet('/api/v3/profile')
    expect(c.status).toBe(200)
    expect(await c.json()).toMatchObject({ s: 'error', code: -353 })
  })

  it('issues a working access token from a refresh token', async () => {
    const response = await fetch(`${fyers.url}/api/v3/validate-refresh-token`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({
        grant_type: 'refresh_token',
        appIdHash: appIdHash(keys.fyers.clientId, keys.fyers.appSecret),
        refresh_token: keys.fyers.refreshToken,
        pin: keys.fyers.pin,
      }),
    })
    const body = await response.json()
    expect(body).toMatchObject({ s: 'ok', code: 200, access_token: expect.any(String) })
    const profile = await fyersGet('/api/v3/profile', `${keys.fyers.clientId}:${body.access_token}`)
    expect(profile.status).toBe(200)
  })

  it('echoes the authorization value and answers malformed JSON as faults', async () => {
    await ctlF.fault({ kind: 'echo' }, { kind: 'malformed' })
    const echoed = await fyersGet('/data/quotes?symbols=NSE:TCS-EQ')
    expect(echoed.status).toBe(401)
    expect(echoed.headers.get('x-echo-credential')).toBe(
      `${keys.fyers.clientId}:${keys.fyers.accessToken}`
    )
    expect((await echoed.json()).message).toContain(keys.fyers.accessToken)
    const malformed = await fyersGet('/data/quotes?symbols=NSE:TCS-EQ')
    await expect(malformed.json()).rejects.toThrow()
  })

  it('answers the configured auth error code for unknown tokens', async () => {
    await ctlF.keys({ authErrorCode: -15 })
    const response = await fyersGet('/api/v3/profile', 'nope:nope')
    expect(await response.json()).toMatchObject({ code: -15, message: 'Provided token is invalid' })
  })

  it('revokes a token at runtime', async () => {
    await ctlF.keys({ revoke: [keys.fyers.accessToken] })
    expect((await fyersGet('/api/v3/profile')).status).toBe(401)
  })
})

describe('globalSetup', () => {
  it('provides the stub URLs and keys', async () => {
    const urls = inject('stubs')
    const provided = inject('stubKeys')
    const response = await fetch(`${urls.fyers}/api/v3/profile`, {
      headers: { authorization: `${provided.fyers.clientId}:${provided.fyers.accessToken}` },
    })
    expect(response.status).toBe(200)
    const models = await new Anthropic({
      apiKey: provided.anthropic.apiKey,
      baseURL: urls.anthropic,
      maxRetries: 0,
    }).models.list()
    expect(models.data.length).toBeGreaterThan(0)
  })
})

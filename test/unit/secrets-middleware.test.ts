import { describe, expect, it } from 'vitest'
import { bindingsOnly } from '../../src/env.ts'
import { createApp } from '../../src/index.ts'

const newValue = (): string => `sk-test-${crypto.randomUUID()}`

interface Call {
  url: string
  headers: Headers
}

/** A fetch that records every call and answers like Anthropic or Fyers would. */
const recordingFetch = () => {
  const calls: Call[] = []
  const fetch: typeof globalThis.fetch = async (input, init) => {
    const request = new Request(input, init)
    calls.push({ url: request.url, headers: request.headers })
    const body = request.url.includes('/v1/models')
      ? { data: [], has_more: false, first_id: null, last_id: null }
      : { s: 'ok', code: 200, data: { name: 'test' } }
    return new Response(JSON.stringify(body), {
      status: 200,
      headers: { 'content-type': 'application/json' },
    })
  }
  return { calls, fetch }
}

/**
 * The real app (hermetic: it reads only the bindings passed to `app.request`) with probe routes
 * outside `/v1`, so no client token is needed.
 */
const probeApp = () => {
  const upstream = recordingFetch()
  const app = createApp({ env: bindingsOnly, fetch: upstream.fetch, runtime: 'test' })
  const anthropicResources: unknown[] = []
  app.get('/t/nothing', (c) => c.json({ ok: true }))
  app.get('/t/snapshot', (c) =>
    c.json({
      anthropic: c.var.secrets.anthropic.configured,
      fyers: c.var.secrets.fyers.configured,
    })
  )
  app.get('/t/anthropic', (c) => {
    anthropicResources.push(c.var.anthropic.messages)
    return c.json({ ok: true })
  })
  app.get('/t/anthropic/twice', (c) => {
    anthropicResources.push(c.var.anthropic.messages, c.var.anthropic.messages)
    return c.json({ ok: true })
  })
  app.get('/t/anthropic/models', async (c) => {
    await c.var.anthropic.models.list()
    return c.json({ ok: true })
  })
  app.get('/t/fyers/profile', async (c) => c.json(await c.var.fyers.profile()))
  return { app, upstream, anthropicResources }
}

const FYERS = { FYERS_CLIENT_ID: 'ABCD1234-100' }

describe('secrets() clients are lazy', () => {
  it('a handler that touches no client builds none, even for unconfigured providers', async () => {
    const { app, upstream } = probeApp()
    const response = await app.request('/t/nothing', {}, {})
    expect(response.status).toBe(200)
    const snapshot = await app.request('/t/snapshot', {}, { ANTHROPIC_API_KEY: newValue() })
    expect(await snapshot.json()).toEqual({ anthropic: true, fyers: false })
    expect(upstream.calls).toEqual([])
  })

  it('a handler that touches only Anthropic never builds the Fyers client', async () => {
    const { app, upstream } = probeApp()
    const bindings = { ANTHROPIC_API_KEY: newValue() }
    const response = await app.request('/t/anthropic/models', {}, bindings)
    expect(response.status).toBe(200)
    expect(upstream.calls.map((call) => new URL(call.url).pathname)).toEqual(['/v1/models'])
  })
})

describe('secrets() client reuse and rotation', () => {
  it('the same generation reuses one client; touching it twice in a request builds once', async () => {
    const { app, anthropicResources } = probeApp()
    const bindings = { ANTHROPIC_API_KEY: newValue() }
    for (let i = 0; i < 3; i++) {
      expect((await app.request('/t/anthropic', {}, bindings)).status).toBe(200)
    }
    expect((await app.request('/t/anthropic/twice', {}, bindings)).status).toBe(200)
    expect(new Set(anthropicResources).size).toBe(1)
  })

  it('a rotated Anthropic key yields a new client that sends it, with no restart', async () => {
    const { app, upstream, anthropicResources } = probeApp()
    const first = newValue()
    const second = newValue()
    await app.request('/t/anthropic', {}, { ANTHROPIC_API_KEY: first })
    await app.request('/t/anthropic/models', {}, { ANTHROPIC_API_KEY: first })
    await app.request('/t/anthropic', {}, { ANTHROPIC_API_KEY: second })
    await app.request('/t/anthropic/models', {}, { ANTHROPIC_API_KEY: second })
    expect(anthropicResources[0]).not.toBe(anthropicResources[1])
    // The SDK sends the key as `x-api-key` or `authorization: Bearer`, depending on its version.
    const sent = upstream.calls.map((call) =>
      [first, second].find((key) => [...call.headers.values()].some((v) => v.includes(key)))
    )
    expect(sent).toEqual([first, second])
  })

  it('a changed base URL yields a new client that calls it', async () => {
    const { app, upstream } = probeApp()
    const key = newValue()
    await app.request('/t/anthropic/models', {}, { ANTHROPIC_API_KEY: key })
    await app.request(
      '/t/anthropic/models',
      {},
      { ANTHROPIC_API_KEY: key, ANTHROPIC_BASE_URL: 'http://127.0.0.1:9/base/' }
    )
    expect(upstream.calls.map((call) => call.url)).toEqual([
      'https://api.anthropic.com/v1/models',
      'http://127.0.0.1:9/base/v1/models',
    ])
  })

  it('a rotated Fyers token is sent on the next request', async () => {
    const { app, upstream } = probeApp()
    const first = newValue()
    const second = newValue()
    for (const token of [first, first, second]) {
      const response = await app.request(
        '/t/fyers/profile',
        {},
        { ...FYERS, FYERS_ACCESS_TOKEN: token }
      )
      expect(response.status).toBe(200)
    }
    expect(upstream.calls.map((call) => call.headers.get('authorization'))).toEqual([
      `ABCD1234-100:${first}`,
      `ABCD1234-100:${first}`,
      `ABCD1234-100:${second}`,
    ])
  })
})

describe('touching an unconfigured provider', () => {
  it('answers 503 provider_not_configured naming ANTHROPIC_API_KEY', async () => {
    const { app, upstream } = probeApp()
    const response = await app.request(
      '/t/anthropic',
      { headers: { 'x-request-id': 'req-503' } },
      {}
    )
    expect(response.status).toBe(503)
    const body = (await response.json()) as { error: { message: string } }
    expect(body).toEqual({
      error: {
        type: 'provider_not_configured',
        provider: 'anthropic',
        message: expect.stringContaining('ANTHROPIC_API_KEY'),
      },
      request_id: 'req-503',
    })
    expect(upstream.calls).toEqual([])
  })

  it('names both Fyers variables when neither is set, and only the missing one otherwise', async () => {
    const { app } = probeApp()
    const none = await app.request('/t/fyers/profile', {}, {})
    expect(none.status).toBe(503)
    const noneBody = (await none.json()) as { error: { provider: string; message: string } }
    expect(noneBody.error.provider).toBe('fyers')
    expect(noneBody.error.message).toContain('FYERS_CLIENT_ID')
    expect(noneBody.error.message).toContain('FYERS_ACCESS_TOKEN')

    const half = await app.request('/t/fyers/profile', {}, FYERS)
    const halfBody = (await half.json()) as { error: { message: string } }
    expect(halfBody.error.message).not.toContain('FYERS_CLIENT_ID')
    expect(halfBody.error.message).toContain('FYERS_ACCESS_TOKEN')
  })

  it('a placeholder key is not configured and its value is never echoed', async () => {
    const { app } = probeApp()
    const response = await app.request(
      '/t/anthropic',
      {},
      { ANTHROPIC_API_KEY: '<paste-your-key-here>' }
    )
    expect(response.status).toBe(503)
    expect(await response.text()).not.toContain('paste-your-key')
  })

  it('an invalid base URL makes a configured key unusable, saying which variable', async () => {
    const { app } = probeApp()
    const response = await app.request(
      '/t/anthropic',
      {},
      { ANTHROPIC_API_KEY: newValue(), ANTHROPIC_BASE_URL: 'ftp://example.com' }
    )
    expect(response.status).toBe(503)
    const body = (await response.json()) as { error: { message: string } }
    expect(body.error.message).toContain('ANTHROPIC_BASE_URL')
  })

  it('the key works as soon as it is set: no restart', async () => {
    const { app } = probeApp()
    expect((await app.request('/t/anthropic', {}, {})).status).toBe(503)
    expect((await app.request('/t/anthropic', {}, { CLAUDE_API_KEY: newValue() })).status).toBe(200)
  })
})

import { describe, expect, it } from 'vitest'
import { FAST_RETRY, MESSAGE, proxyFixture, readUntil } from './fixture.ts'

type ErrorBody = { error: { type: string; message: string; issues?: { path: string }[] } }

describe('POST /v1/messages', () => {
  it('forwards with the current key, the default version, and unknown fields untouched', async () => {
    const f = await proxyFixture()
    const body = { ...MESSAGE, metadata: { user_id: 'u1' }, brand_new_feature: { on: true } }
    const res = await f.messages(body)
    expect(res.status).toBe(200)
    expect(res.headers.get('request-id')).toMatch(/^req_/)
    expect(res.headers.get('keyline-key-slot')).toBe('current')
    const message = (await res.json()) as { type: string; model: string }
    expect(message).toMatchObject({ type: 'message', model: MESSAGE.model })
    const [seen] = await f.anthropic.requests()
    expect(seen?.headers['anthropic-version']).toBe('2023-06-01')
    expect(JSON.parse(seen?.body ?? '')).toEqual(body)
  })

  it('passes the client anthropic-version through', async () => {
    const f = await proxyFixture()
    await f.messages(MESSAGE, { 'anthropic-version': '2023-01-01' })
    const [seen] = await f.anthropic.requests()
    expect(seen?.headers['anthropic-version']).toBe('2023-01-01')
  })

  it('drops a header the client names in Connection: it is hop-by-hop', async () => {
    const f = await proxyFixture()
    await f.messages(MESSAGE, {
      'anthropic-beta': 'files-api-2025-04-14',
      connection: 'anthropic-beta',
    })
    await f.messages(MESSAGE, { 'anthropic-beta': 'files-api-2025-04-14' })
    const [hop, plain] = await f.anthropic.requests()
    expect(hop?.headers['anthropic-beta']).toBeUndefined()
    expect(plain?.headers['anthropic-beta']).toBe('files-api-2025-04-14')
  })

  it('never relays an upstream header whose name holds the key', async () => {
    const f = await proxyFixture()
    const key = f.keys.anthropic.apiKey
    await f.anthropic.fault({
      kind: 'status',
      status: 400,
      headers: {
        [`anthropic-ratelimit-${key.toLowerCase()}`]: '1',
        'anthropic-ratelimit-requests-limit': '50',
      },
    })
    const res = await f.call('/v1/models')
    const names = [...res.headers.keys()]
    expect(names).toContain('anthropic-ratelimit-requests-limit')
    expect(names.join('\n').toLowerCase()).not.toContain(key.toLowerCase().slice(-12))
  })

  it('answers 400 naming each bad field, and never calls upstream', async () => {
    const f = await proxyFixture()
    const res = await f.messages({ model: '', max_tokens: -1, messages: [] })
    expect(res.status).toBe(400)
    const body = (await res.json()) as ErrorBody
    expect(body.error.type).toBe('invalid_request_error')
    expect(body.error.issues?.map((i) => i.path).sort()).toEqual([
      'max_tokens',
      'messages',
      'model',
    ])
    expect(await f.anthropic.requests()).toHaveLength(0)
  })

  it('answers 400 for malformed JSON and 413 for a body over the limit', async () => {
    const f = await proxyFixture()
    const bad = await f.call('/v1/messages', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: '{"model":',
    })
    expect(bad.status).toBe(400)
    expect(((await bad.json()) as ErrorBody).error.type).toBe('invalid_request_error')
    const huge = { ...MESSAGE, messages: [{ role: 'user', content: 'x'.repeat(1024 * 1024) }] }
    const res = await f.messages(huge)
    expect(res.status).toBe(413)
    expect(((await res.json()) as ErrorBody).error.type).toBe('request_too_large')
    expect(await f.anthropic.requests()).toHaveLength(0)
  })

  it('/v1/messages/ with a trailing slash gets the same validation and body limit', async () => {
    const f = await proxyFixture()
    const post = (body: unknown) =>
      f.call('/v1/messages/', {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(body),
      })
    const invalid = await post({ model: '', max_tokens: -1, messages: [] })
    expect(invalid.status).toBe(400)
    expect(((await invalid.json()) as ErrorBody).error.type).toBe('invalid_request_error')
    const huge = { ...MESSAGE, messages: [{ role: 'user', content: 'x'.repeat(1024 * 1024) }] }
    expect((await post(huge)).status).toBe(413)
    expect(await f.anthropic.requests()).toHaveLength(0)
    expect((await post(MESSAGE)).status).toBe(200)
  })

  it("keyline's own errors are Anthropic-shaped, naming the field (issue 22 item 4)", async () => {
    const f = await proxyFixture()
    const { max_tokens: _, ...withoutMax } = MESSAGE
    const res = await f.messages(withoutMax)
    expect(res.status).toBe(400)
    const body = (await res.json()) as Record<string, unknown>
    expect(Object.keys(body)).toEqual(['type', 'error', 'request_id'])
    expect(body).toMatchObject({
      type: 'error',
      error: { type: 'invalid_request_error', message: 'max_tokens: Field required' },
      request_id: res.headers.get('x-request-id'),
    })
    // A 401 of the client auth too, and the 404 of an unknown path outside /v1/ keeps keyline's.
    const denied = await f.call('/v1/models', { headers: { authorization: 'Bearer wrong' } })
    expect(await denied.json()).toMatchObject({
      type: 'error',
      error: { type: 'authentication_error' },
    })
    const quotes = await f.call('/v1/quotes?symbols=bad')
    const fyers = (await quotes.json()) as Record<string, unknown>
    expect(fyers.type).toBeUndefined()
    expect(fyers).toMatchObject({ error: { type: 'invalid_request_error' } })
  })

  it('answers 503 naming the variable when no key is configured', async () => {
    const f = await proxyFixture({ ANTHROPIC_API_KEY: '' })
    const res = await f.messages(MESSAGE)
    expect(res.status).toBe(503)
    const body = (await res.json()) as ErrorBody & { error: { provider: string } }
    expect(body.error).toMatchObject({
      type: 'api_error',
      keyline_type: 'provider_not_configured',
      provider: 'anthropic',
    })
    expect(body.error.message).toContain('ANTHROPIC_API_KEY')
  })

  it('relays upstream errors with their status, Anthropic shape and request-id', async () => {
    const f = await proxyFixture()
    await f.anthropic.fault({
      kind: 'status',
      status: 400,
      errorType: 'invalid_request_error',
      message: 'bad model',
    })
    const res = await f.messages(MESSAGE)
    expect(res.status).toBe(400)
    const body = (await res.json()) as {
      type: string
      error: { type: string; message: string }
      request_id: string
    }
    expect(body).toMatchObject({
      type: 'error',
      error: { type: 'invalid_request_error', message: 'bad model' },
    })
    expect(res.headers.get('request-id')).toBe(body.request_id)
  })
})

describe('streaming', () => {
  it('streams SSE byte for byte: the first event arrives before the stub sends the last', async () => {
    const f = await proxyFixture()
    await f.anthropic.fault({ kind: 'drip', intervalMs: 5, gate: true })
    const res = await f.messages({ ...MESSAGE, stream: true })
    expect(res.status).toBe(200)
    expect(res.headers.get('content-type')).toContain('text/event-stream')
    expect(res.headers.get('x-request-id')).toMatch(/^[0-9a-f-]{36}$/)
    expect(res.headers.get('request-id')).toMatch(/^req_/)
    const reader = (res.body as ReadableStream<Uint8Array>).getReader()
    const first = await readUntil(reader, (t) => t.includes('event: message_start'))
    expect(first).toContain('event: message_start')
    await f.anthropic.waitForGate(1)
    expect(first).not.toContain('message_stop')
    await f.anthropic.release()
    const rest = await readUntil(reader, () => false)
    expect(rest).toMatch(/event: message_stop\ndata: \{"type":"message_stop"\}\n\n$/)
  })

  it('aborts the upstream request when the client goes away', async () => {
    const f = await proxyFixture()
    await f.anthropic.fault({ kind: 'drip', intervalMs: 5, gate: true })
    const res = await f.messages({ ...MESSAGE, stream: true })
    const reader = (res.body as ReadableStream<Uint8Array>).getReader()
    await readUntil(reader, (t) => t.includes('message_start'))
    await f.anthropic.waitForGate(1)
    await reader.cancel()
    const deadline = Date.now() + 3000
    while ((await f.anthropic.state()).activeStreams > 0 && Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 20))
    }
    expect((await f.anthropic.state()).activeStreams).toBe(0)
  })

  it('ends a stream broken mid-way with an SSE error event', async () => {
    const f = await proxyFixture()
    await f.anthropic.fault({ kind: 'reset', afterEvents: 2 })
    const res = await f.messages({ ...MESSAGE, stream: true })
    expect(res.status).toBe(200)
    const text = await res.text()
    expect(text).toContain('event: message_start')
    expect(text).not.toContain('message_stop')
    expect(text).toMatch(/event: error\ndata: \{"type":"error","error":\{"type":"api_error"/)
    expect(text).toContain('The upstream closed the stream before it ended')
  })

  it('ends a stream that falls silent with a timeout_error event', async () => {
    const f = await proxyFixture({}, { retry: { ...FAST_RETRY, idleTimeoutMs: 200 } })
    await f.anthropic.fault({ kind: 'drip', intervalMs: 5, gate: true })
    const res = await f.messages({ ...MESSAGE, stream: true })
    const text = await res.text()
    expect(text).toContain('event: message_start')
    expect(text).toMatch(/event: error\ndata: .*"timeout_error"/)
  })
})

describe('GET /v1/models', () => {
  it('passes the list through, with its query', async () => {
    const f = await proxyFixture()
    const res = await f.call('/v1/models?limit=2&evil=1')
    expect(res.status).toBe(200)
    const body = (await res.json()) as { data: { type: string }[] }
    expect(body.data[0]?.type).toBe('model')
    const [seen] = await f.anthropic.requests()
    expect(seen?.search).toBe('?limit=2')
  })
})

import { describe, expect, it } from 'vitest'
import { FAST_RETRY, MESSAGE, proxyFixture } from './fixture.ts'

type ErrorBody = { error: { type: string; message: string } }

describe('upstream faults', () => {
  it('retries a 429, honouring retry-after, and the client sees only the success', async () => {
    const f = await proxyFixture()
    await f.anthropic.fault({ kind: 'status', status: 429, retryAfter: 0 })
    const res = await f.messages(MESSAGE)
    expect(res.status).toBe(200)
    expect(await f.anthropic.requests()).toHaveLength(2)
  })

  it('honours retry-after-ms before retrying', async () => {
    const f = await proxyFixture()
    await f.anthropic.fault({ kind: 'status', status: 429, retryAfterMs: 300 })
    const started = Date.now()
    const res = await f.messages(MESSAGE)
    expect(res.status).toBe(200)
    const [first, second] = await f.anthropic.requests()
    expect((second?.at ?? 0) - (first?.at ?? 0)).toBeGreaterThanOrEqual(280)
    expect(Date.now() - started).toBeGreaterThanOrEqual(280)
  })

  it('does not wait out a retry-after longer than the policy allows', async () => {
    const f = await proxyFixture()
    await f.anthropic.fault({ kind: 'status', status: 429, retryAfter: 3600 })
    const res = await f.messages(MESSAGE)
    expect(res.status).toBe(429)
    expect(res.headers.get('retry-after')).toBe('3600')
    expect(((await res.json()) as ErrorBody).error.type).toBe('rate_limit_error')
    expect(await f.anthropic.requests()).toHaveLength(1)
  })

  it('retries 529 and 500, then relays the last error once retries run out', async () => {
    const f = await proxyFixture()
    await f.anthropic.fault({ kind: 'status', status: 529 }, { kind: 'status', status: 500 })
    expect((await f.messages(MESSAGE)).status).toBe(200)
    await f.anthropic.mode({ kind: 'status', status: 529 })
    const res = await f.messages(MESSAGE)
    expect(res.status).toBe(529)
    expect(((await res.json()) as ErrorBody).error.type).toBe('overloaded_error')
    expect(await f.anthropic.requests()).toHaveLength(3 + 3)
  })

  it('answers 504 timeout_error when the upstream sends no headers in time', async () => {
    const f = await proxyFixture({}, { retry: { ...FAST_RETRY, headersTimeoutMs: 200 } })
    await f.anthropic.mode({ kind: 'latency', ms: 1000 })
    const res = await f.messages(MESSAGE)
    expect(res.status).toBe(504)
    expect(((await res.json()) as ErrorBody).error.type).toBe('timeout_error')
    expect(await f.anthropic.requests()).toHaveLength(1 + FAST_RETRY.maxRetries)
  })

  it('retries a connection reset, and answers 502 when the upstream stays unreachable', async () => {
    const f = await proxyFixture()
    await f.anthropic.fault({ kind: 'reset' })
    expect((await f.messages(MESSAGE)).status).toBe(200)
    await f.anthropic.mode({ kind: 'reset' })
    const res = await f.messages(MESSAGE)
    expect(res.status).toBe(502)
    expect(((await res.json()) as ErrorBody).error).toMatchObject({
      type: 'api_error',
      keyline_type: 'upstream_unreachable',
    })
  })

  it('retries a reset in the middle of a JSON answer, as nothing of it reached the client', async () => {
    const f = await proxyFixture()
    await f.anthropic.fault({ kind: 'reset', afterBytes: 40 }, { kind: 'reset', afterBytes: 40 })
    const res = await f.messages(MESSAGE)
    expect(res.status).toBe(200)
    expect(await res.json()).toMatchObject({ type: 'message', role: 'assistant' })
    expect(await f.anthropic.requests()).toHaveLength(3)
    // Once retries run out, the broken answer is a 502, never a truncated 200.
    await f.anthropic.mode({ kind: 'reset', afterBytes: 40 })
    const broken = await f.messages(MESSAGE)
    expect(broken.status).toBe(502)
    expect(((await broken.json()) as ErrorBody).error).toMatchObject({
      type: 'api_error',
      keyline_type: 'upstream_unreachable',
    })
    expect(await f.anthropic.requests()).toHaveLength(3 + 1 + FAST_RETRY.maxRetries)
  })

  it('a client that goes away mid-call is a quiet 499, not a logged 500', async () => {
    const f = await proxyFixture()
    await f.anthropic.fault({ kind: 'latency', ms: 500 })
    const client = new AbortController()
    const pending = f.app.request(
      new Request('http://keyline.test/v1/models', {
        headers: { authorization: `Bearer ${f.clientToken}` },
        signal: client.signal,
      }),
      undefined,
      f.env
    )
    setTimeout(() => client.abort(), 100)
    const res = await pending
    expect(res.status).toBe(499)
    expect(f.logs.filter((line) => line.level === 'error' && line.msg !== 'request')).toEqual([])
  })

  it('answers 502 upstream_malformed for a body that is not JSON', async () => {
    const f = await proxyFixture()
    await f.anthropic.fault({ kind: 'malformed' })
    const res = await f.messages(MESSAGE)
    expect(res.status).toBe(502)
    expect(((await res.json()) as ErrorBody).error).toMatchObject({
      type: 'api_error',
      keyline_type: 'upstream_malformed',
    })
  })

  it('relays no stream in a content coding no runtime decodes: a 502, and its bytes unsent', async () => {
    const f = await proxyFixture()
    const key = f.keys.anthropic.apiKey
    // zstd: compressed bytes the redaction could not read; an unknown name (or `identity`, which
    // no answer may name), bytes it could, but which no client could read as their label says.
    for (const coding of ['zstd', 'gzip, zstd', 'x-custom', 'identity']) {
      await f.anthropic.fault({ kind: 'encoding', coding })
      const res = await f.messages({ ...MESSAGE, stream: true })
      expect(res.status, coding).toBe(502)
      const text = await res.text()
      expect(JSON.parse(text).error).toMatchObject({
        type: 'api_error',
        keyline_type: 'upstream_malformed',
      })
      expect(text).not.toContain(key.slice(-12))
    }
    // A coding the runtime's fetch decoded (its name left on the answer) is relayed, redacted:
    // `deflate` only on Node (workerd hands it back compressed).
    const workerd = globalThis.navigator?.userAgent === 'Cloudflare-Workers'
    for (const coding of ['gzip', 'deflate']) {
      await f.anthropic.fault({ kind: 'encoding', coding })
      const res = await f.messages({ ...MESSAGE, stream: true })
      const stream = await res.text()
      expect(res.status, coding).toBe(coding === 'deflate' && workerd ? 502 : 200)
      if (res.status === 200) expect(stream).toContain('message_stop')
      expect(stream).not.toContain(key.slice(-12))
    }
    expect(JSON.stringify(f.logs)).not.toContain(key.slice(-12))
  })

  it('never follows a redirect, to another path or another host', async () => {
    const f = await proxyFixture()
    for (const target of ['path', 'host'] as const) {
      await f.anthropic.fault({ kind: 'redirect', target })
      const res = await f.messages(MESSAGE)
      expect(res.status).toBe(502)
      expect(((await res.json()) as ErrorBody).error).toMatchObject({
        type: 'api_error',
        keyline_type: 'upstream_redirect',
      })
    }
    expect((await f.anthropic.state()).evilHits).toBe(0)
    expect(await f.anthropic.requests()).toHaveLength(2)
  })
})

describe('key failover', () => {
  it('retries a 401 once with the next key, marks it, and keeps using the key that works', async () => {
    const next = `sk-ant-test-next-${crypto.randomUUID()}`
    const f = await proxyFixture({ ANTHROPIC_API_KEY_NEW: next })
    await f.anthropic.keys({ replace: [next] })
    const first = await f.messages(MESSAGE)
    expect(first.status).toBe(200)
    expect(first.headers.get('keyline-key-slot')).toBe('next')
    const second = await f.messages(MESSAGE)
    expect(second.status).toBe(200)
    expect(second.headers.get('keyline-key-slot')).toBe('next')
    const keysSent = (await f.anthropic.requests()).map((r) => r.headers['x-api-key'])
    expect(keysSent).toEqual([f.keys.anthropic.apiKey, next, next])
  })

  it('on a 401, reads the secrets afresh: a key staged while the request was in flight is used', async () => {
    const f = await proxyFixture()
    const env = { ...f.env }
    const next = `sk-ant-test-next-${crypto.randomUUID()}`
    await f.anthropic.fault({ kind: 'latency', ms: 150 })
    const pending = f.call(
      '/v1/messages',
      {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(MESSAGE),
      },
      env
    )
    await new Promise((resolve) => setTimeout(resolve, 50))
    env.ANTHROPIC_API_KEY_NEW = next
    await f.anthropic.keys({ replace: [next] })
    const res = await pending
    expect(res.status).toBe(200)
    expect(res.headers.get('keyline-key-slot')).toBe('next')
    const keysSent = (await f.anthropic.requests()).map((r) => r.headers['x-api-key'])
    expect(keysSent).toEqual([f.keys.anthropic.apiKey, next])
  })

  it('relays the 401 when there is no next key, or the next key fails too', async () => {
    const f = await proxyFixture()
    await f.anthropic.keys({ replace: [] })
    const res = await f.messages(MESSAGE)
    expect(res.status).toBe(401)
    expect(((await res.json()) as ErrorBody).error.type).toBe('authentication_error')
    const g = await proxyFixture({
      ANTHROPIC_API_KEY_NEW: `sk-ant-test-next-${crypto.randomUUID()}`,
    })
    await g.anthropic.keys({ replace: [] })
    expect((await g.messages(MESSAGE)).status).toBe(401)
    expect(await g.anthropic.requests()).toHaveLength(2)
  })
})

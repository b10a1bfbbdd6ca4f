import { describe, expect, it } from 'vitest'
import { MESSAGE, proxyFixture } from './fixture.ts'

/**
 * Every byte keyline relays passes the redactor, success answers included: a 2xx Messages or
 * Models body, a 2xx Fyers quotes body and an SSE stream (an `event: error` mid-stream, the key
 * split across two chunks) that echo a credential reach the client with its fingerprint only.
 */
const encoder = new TextEncoder()

/** A fetch answering every call with `answer(request)`; the stubs are not used. */
const answering = (answer: (request: Request) => Response): typeof fetch =>
  (async (input: RequestInfo | URL, init?: RequestInit) =>
    answer(new Request(input, init))) as typeof fetch

const keyOf = (request: Request): string =>
  request.headers.get('x-api-key') ?? request.headers.get('authorization') ?? ''

describe('relayed success answers are redacted', () => {
  it('a 2xx Messages and Models body that echoes the key', async () => {
    const fetch = answering(
      (request) =>
        new Response(
          JSON.stringify({ type: 'message', echoed: `key=${keyOf(request)}`, usage: {} }),
          { status: 200, headers: { 'content-type': 'application/json' } }
        )
    )
    const f = await proxyFixture({}, { fetch })
    const key = f.keys.anthropic.apiKey
    for (const res of [await f.messages(MESSAGE), await f.call('/v1/models')]) {
      expect(res.status).toBe(200)
      const text = await res.text()
      expect(text).not.toContain(key)
      expect(text).toContain(`…${key.slice(-4)}`)
    }
  })

  it('a 2xx Fyers quotes body that echoes the token', async () => {
    const fetch = answering(
      (request) =>
        new Response(
          JSON.stringify({
            s: 'ok',
            code: 200,
            d: [{ n: 'NSE:SBIN-EQ', s: 'ok', v: { note: keyOf(request) } }],
          }),
          { status: 200, headers: { 'content-type': 'application/json' } }
        )
    )
    const f = await proxyFixture({}, { fetch })
    const res = await f.call('/v1/quotes?symbols=NSE:SBIN-EQ')
    expect(res.status).toBe(200)
    const text = await res.text()
    expect(text).not.toContain(f.keys.fyers.accessToken)
    expect(JSON.parse(text)).toMatchObject({ s: 'ok', d: [{ n: 'NSE:SBIN-EQ' }] })
  })

  it('an SSE error event mid-stream, with the key split across two chunks', async () => {
    let cut = 0
    const fetch = answering((request) => {
      const key = keyOf(request)
      const event = `event: error\ndata: {"type":"error","error":{"type":"api_error","message":"bad key ${key}"}}\n\n`
      const split = event.indexOf(key) + cut
      const chunks = [
        'event: message_start\ndata: {"type":"message_start","message":{"usage":{"input_tokens":1}}}\n\n',
        event.slice(0, split),
        event.slice(split),
      ]
      return new Response(
        new ReadableStream({
          start(controller) {
            for (const chunk of chunks) controller.enqueue(encoder.encode(chunk))
            controller.close()
          },
        }),
        { status: 200, headers: { 'content-type': 'text/event-stream' } }
      )
    })
    const f = await proxyFixture({}, { fetch })
    const key = f.keys.anthropic.apiKey
    for (cut of [1, 5, Math.floor(key.length / 2), key.length - 1]) {
      const res = await f.messages({ ...MESSAGE, stream: true })
      expect(res.status).toBe(200)
      const text = await res.text()
      expect(text).toContain('event: message_start')
      expect(text).toContain('event: error')
      expect(text).not.toContain(key.slice(0, 12))
      expect(text).not.toContain(key.slice(-12))
    }
  })

  it('an SSE stream sent a byte at a time: every chunk the redactor holds back, the stream still ends', async () => {
    // Each byte alone is held back (an unfinished line) until its line ends: a relay whose pull
    // passes on nothing must read on, or workerd never pulls again and the answer hangs.
    const fetch = answering((request) => {
      const bytes = encoder.encode(
        `event: message_start\ndata: {"type":"message_start","message":{"usage":{"input_tokens":1}}}\n\nevent: content_block_delta\ndata: {"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":"key ${keyOf(request)}"}}\n\nevent: message_stop\ndata: {"type":"message_stop"}\n\n`
      )
      return new Response(
        new ReadableStream({
          start(controller) {
            for (let i = 0; i < bytes.length; i++) controller.enqueue(bytes.slice(i, i + 1))
            controller.close()
          },
        }),
        { status: 200, headers: { 'content-type': 'text/event-stream' } }
      )
    })
    const f = await proxyFixture({}, { fetch })
    const key = f.keys.anthropic.apiKey
    const res = await f.messages({ ...MESSAGE, stream: true })
    expect(res.status).toBe(200)
    const text = await res.text()
    expect(text).toContain('event: message_stop')
    expect(text).not.toContain(key.slice(0, 12))
    expect(text).not.toContain(key.slice(-12))
  })
})

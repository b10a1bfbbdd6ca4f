import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { resetTelemetryState } from '../../src/telemetry/instruments.ts'
import { REPLAY_LIMIT_BYTES } from '../../src/upstream/replayable-body.ts'
import { installTestMetrics, type TestMetrics } from '../unit/telemetry/collect.ts'
import { FAST_RETRY, proxyFixture } from './fixture.ts'

const FILES_BETA = 'files-api-2025-04-14'
const encoder = new TextEncoder()

/** A multipart body holding one file, split in `parts`, as a stream the test feeds by hand. */
const multipart = (content: Uint8Array) => {
  const boundary = `----keyline${crypto.randomUUID().replaceAll('-', '')}`
  const head = encoder.encode(
    `--${boundary}\r\nContent-Disposition: form-data; name="file"; filename="a.bin"\r\n` +
      'Content-Type: application/octet-stream\r\n\r\n'
  )
  const tail = encoder.encode(`\r\n--${boundary}--\r\n`)
  return { type: `multipart/form-data; boundary=${boundary}`, head, content, tail }
}

const pattern = (size: number): Uint8Array => {
  const bytes = new Uint8Array(size)
  for (let i = 0; i < size; i++) bytes[i] = (i * 7 + 3) & 0xff
  return bytes
}

const timeout = <T>(promise: Promise<T>, ms: number, what: string): Promise<T> =>
  Promise.race([
    promise,
    new Promise<T>((_, reject) => setTimeout(() => reject(new Error(`${what}: timed out`)), ms)),
  ])

describe('the Anthropic passthrough (every /v1/ endpoint)', () => {
  it('streams an upload: its first bytes reach the upstream before the client has sent the rest', async () => {
    let firstSeen: () => void = () => {}
    const seen = new Promise<void>((resolve) => {
      firstSeen = resolve
    })
    // A fetch that notes the first chunk of the body on its way to the real stub.
    const watching: typeof fetch = async (input, init) => {
      const body = init?.body
      if (!(body instanceof ReadableStream)) return fetch(input, init)
      const reader = (body as ReadableStream<Uint8Array>).getReader()
      const relayed = new ReadableStream<Uint8Array>({
        async pull(controller) {
          const { done, value } = await reader.read()
          if (done) return controller.close()
          firstSeen()
          controller.enqueue(value)
        },
      })
      return fetch(input, { ...init, body: relayed, duplex: 'half' } as RequestInit)
    }
    const f = await proxyFixture({}, { fetch: watching })
    const form = multipart(pattern(4096))
    const client = new ReadableStream<Uint8Array>({
      async start(controller) {
        controller.enqueue(form.head)
        // The rest comes only once the upstream saw the beginning: a buffering proxy stalls here.
        await timeout(seen, 3000, 'the upstream never saw the first bytes')
        controller.enqueue(form.content)
        controller.enqueue(form.tail)
        controller.close()
      },
    })
    const res = await f.call('/v1/files', {
      method: 'POST',
      headers: { 'content-type': form.type, 'anthropic-beta': FILES_BETA },
      body: client,
      duplex: 'half',
    } as RequestInit)
    expect(res.status).toBe(200)
    expect(await res.json()).toMatchObject({ type: 'file', size_bytes: 4096 })
    const [upload] = await f.anthropic.requests()
    expect(upload?.headers['x-api-key']).toBe(f.keys.anthropic.apiKey)
    expect(upload?.headers['anthropic-beta']).toBe(FILES_BETA)
    expect(upload?.headers.authorization).toBeUndefined()
  })

  const upload = (f: Awaited<ReturnType<typeof proxyFixture>>, size: number) => {
    const form = multipart(pattern(size))
    const chunks = [form.head, form.content, form.tail]
    return f.call('/v1/files', {
      method: 'POST',
      headers: { 'content-type': form.type },
      body: new ReadableStream<Uint8Array>({
        pull(controller) {
          const next = chunks.shift()
          if (next) controller.enqueue(next)
          else controller.close()
        },
      }),
      duplex: 'half',
    } as RequestInit)
  }

  it('a small streamed upload is sent again with the next key when the current one is refused', async () => {
    const next = `sk-ant-test-next-${crypto.randomUUID()}`
    const f = await proxyFixture({ ANTHROPIC_API_KEY_NEW: next })
    await f.anthropic.keys({ replace: [next] })
    const res = await upload(f, 10_000)
    expect(res.status).toBe(200)
    expect(res.headers.get('keyline-key-slot')).toBe('next')
    expect(((await res.json()) as { size_bytes: number }).size_bytes).toBe(10_000)
    const keysSent = (await f.anthropic.requests()).map((r) => r.headers['x-api-key'])
    expect(keysSent).toEqual([f.keys.anthropic.apiKey, next])
  })

  it('an upload larger than the replay bound is sent once: the refusal is relayed', async () => {
    const next = `sk-ant-test-next-${crypto.randomUUID()}`
    const f = await proxyFixture({ ANTHROPIC_API_KEY_NEW: next })
    await f.anthropic.keys({ replace: [next] })
    const res = await upload(f, REPLAY_LIMIT_BYTES + 64 * 1024)
    expect(res.status).toBe(401)
    expect(((await res.json()) as { error: { type: string } }).error.type).toBe(
      'authentication_error'
    )
    expect(await f.anthropic.requests()).toHaveLength(1)
  })

  it('a download is streamed back byte for byte, and a key it echoes is redacted', async () => {
    const f = await proxyFixture()
    const key = f.keys.anthropic.apiKey
    const bytes = new Uint8Array([...pattern(3000), ...encoder.encode(` key=${key} `)])
    const form = multipart(bytes)
    const body = new Uint8Array([...form.head, ...form.content, ...form.tail])
    const created = await f.call('/v1/files', {
      method: 'POST',
      headers: { 'content-type': form.type },
      body,
    })
    const { id } = (await created.json()) as { id: string }
    const res = await f.call(`/v1/files/${id}/content`)
    expect(res.status).toBe(200)
    expect(res.headers.get('content-type')).toBe('application/octet-stream')
    expect(res.headers.get('content-disposition')).toContain('a.bin')
    const got = new Uint8Array(await res.arrayBuffer())
    const text = new TextDecoder().decode(got)
    expect(text).not.toContain(key)
    expect(text).toContain(`…${key.slice(-4)}`)
    const plain = new Uint8Array(await (await f.call(`/v1/files/${id}`)).arrayBuffer())
    expect(plain.length).toBeGreaterThan(0)
  })

  it('a binary download with no secret in it passes unchanged', async () => {
    const f = await proxyFixture()
    const bytes = pattern(50_000)
    const form = multipart(bytes)
    const created = await f.call('/v1/files', {
      method: 'POST',
      headers: { 'content-type': form.type },
      body: new Uint8Array([...form.head, ...form.content, ...form.tail]),
    })
    const { id } = (await created.json()) as { id: string }
    const res = await f.call(`/v1/files/${id}/content`)
    expect(new Uint8Array(await res.arrayBuffer())).toEqual(bytes)
  })

  it('batch results are streamed as JSONL and the results_url points at keyline', async () => {
    const f = await proxyFixture()
    const created = await f.call('/v1/messages/batches', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({
        requests: [
          {
            custom_id: 'a',
            params: { model: 'claude-sonnet-5-5', max_tokens: 8, messages: [] },
          },
        ],
      }),
    })
    const { id } = (await created.json()) as { id: string }
    const batch = (await (await f.call(`/v1/messages/batches/${id}`)).json()) as {
      results_url: string
    }
    expect(batch.results_url).toBe(`http://localhost/v1/messages/batches/${id}/results`)
    const res = await f.call(new URL(batch.results_url).pathname)
    expect(res.status).toBe(200)
    const lines = (await res.text()).trim().split('\n')
    expect(lines.map((line) => (JSON.parse(line) as { custom_id: string }).custom_id)).toEqual([
      'a',
    ])
  })

  it('forwards the method, path and query of an endpoint keyline does not know', async () => {
    const f = await proxyFixture()
    const res = await f.call('/v1/skills/abc?beta=true', { method: 'DELETE' })
    expect(res.status).toBe(404)
    const [seen] = await f.anthropic.requests()
    expect(seen).toMatchObject({ method: 'DELETE', path: '/v1/skills/abc', search: '?beta=true' })
  })
})

/** A client body that sends `chunks` one by one, `everyMs` apart (then ends, or breaks off). */
const dribble = (
  chunks: Uint8Array[],
  everyMs: number,
  end: 'close' | 'break' = 'close'
): ReadableStream<Uint8Array> =>
  new ReadableStream<Uint8Array>({
    async pull(controller) {
      await new Promise((resolve) => setTimeout(resolve, everyMs))
      const next = chunks.shift()
      if (next) controller.enqueue(next)
      else if (end === 'close') controller.close()
      else controller.error(new Error('the client broke off its upload'))
    },
  })

/** A multipart upload of `size` bytes, its file in `pieces` parts. */
const uploadChunks = (size: number, pieces: number) => {
  const form = multipart(pattern(size))
  const step = Math.ceil(size / pieces)
  const parts: Uint8Array[] = []
  for (let at = 0; at < size; at += step) parts.push(form.content.subarray(at, at + step))
  return { type: form.type, chunks: [form.head, ...parts, form.tail] }
}

describe('uploads: the header timeout, the upload cap, a client that breaks off', () => {
  let m: TestMetrics
  beforeEach(() => {
    resetTelemetryState()
    m = installTestMetrics()
  })
  afterEach(() => m.shutdown())

  const failures = async (): Promise<number> =>
    (await m.points('keyline.ai.failures')).reduce(
      (total, p) => total + (typeof p.value === 'number' ? p.value : 0),
      0
    )

  const send = (
    f: Awaited<ReturnType<typeof proxyFixture>>,
    type: string,
    body: ReadableStream<Uint8Array>
  ) =>
    f.call('/v1/files', {
      method: 'POST',
      headers: { 'content-type': type, 'anthropic-beta': FILES_BETA },
      body,
      duplex: 'half',
    } as RequestInit)

  it('an upload slower than the header timeout is answered: the timeout starts once the body is sent', async () => {
    const f = await proxyFixture({}, { retry: { ...FAST_RETRY, headersTimeoutMs: 150 } })
    const { type, chunks } = uploadChunks(8000, 8)
    // 10 chunks, 60 ms apart: the client takes ~600 ms, four times the header timeout.
    const res = await send(f, type, dribble(chunks, 60))
    expect(res.status).toBe(200)
    expect(await res.json()).toMatchObject({ type: 'file', size_bytes: 8000 })
    expect(await f.anthropic.requests()).toHaveLength(1)
    expect(await failures()).toBe(0)
  })

  it('an upstream that takes the whole slow upload and then says nothing still times out', async () => {
    const f = await proxyFixture(
      {},
      { retry: { ...FAST_RETRY, maxRetries: 0, headersTimeoutMs: 150 } }
    )
    await f.anthropic.fault({ kind: 'latency', ms: 1500 })
    const { type, chunks } = uploadChunks(4000, 4)
    const res = await send(f, type, dribble(chunks, 60))
    expect(res.status).toBe(504)
    expect(((await res.json()) as { error: { type: string } }).error.type).toBe('timeout_error')
  })

  it('a client that breaks off its upload gets a 400, and no upstream failure is counted', async () => {
    const f = await proxyFixture()
    const { type, chunks } = uploadChunks(4000, 4)
    const res = await send(f, type, dribble(chunks.slice(0, 3), 5, 'break'))
    expect(res.status).toBe(400)
    const body = (await res.json()) as { type: string; error: { type: string; message: string } }
    expect(body.type).toBe('error')
    expect(body.error).toMatchObject({
      type: 'invalid_request_error',
      message: 'The request body ended before it was complete',
    })
    expect(await failures()).toBe(0)
  })

  it('a client whose upload stalls gets a 408 after the idle timeout, and no upstream failure is counted', async () => {
    const f = await proxyFixture({}, { retry: { ...FAST_RETRY, idleTimeoutMs: 150 } })
    const { type, chunks } = uploadChunks(4000, 4)
    let sent = 0
    // Two chunks, then silence: the client neither sends more nor goes away.
    const stalled = new ReadableStream<Uint8Array>({
      pull(controller) {
        const next = chunks[sent++]
        if (next && sent <= 2) controller.enqueue(next)
        else return new Promise(() => {})
      },
    })
    const res = await send(f, type, stalled)
    expect(res.status).toBe(408)
    expect(await res.json()).toMatchObject({
      type: 'error',
      error: {
        type: 'invalid_request_error',
        message: 'The request body stalled: nothing of it arrived for 0.15 s',
      },
    })
    expect(await failures()).toBe(0)
  })

  it("KEYLINE_MAX_UPLOAD_BYTES caps a streamed body: 413 request_too_large past it, in Anthropic's shape", async () => {
    const f = await proxyFixture({ KEYLINE_MAX_UPLOAD_BYTES: '6000' })
    const over = uploadChunks(8000, 8)
    const res = await send(f, over.type, dribble(over.chunks, 1))
    expect(res.status).toBe(413)
    expect(await res.json()).toMatchObject({
      type: 'error',
      error: {
        type: 'request_too_large',
        message: 'The request body is larger than 6000 bytes (KEYLINE_MAX_UPLOAD_BYTES)',
      },
    })
    expect(await failures()).toBe(0)
    // The upstream saw the request break off (the call is aborted, not its body errored, so no
    // runtime ends it as if it were complete): it recorded none.
    expect(await f.anthropic.requests()).toEqual([])
    // A body within the cap passes.
    const under = uploadChunks(5000, 4)
    const ok = await send(f, under.type, dribble(under.chunks, 1))
    expect(ok.status).toBe(200)
    expect(await ok.json()).toMatchObject({ size_bytes: 5000 })
  })

  it('KEYLINE_MAX_UPLOAD_BYTES refuses a body by its content-length, before any of it is read', async () => {
    const f = await proxyFixture({ KEYLINE_MAX_UPLOAD_BYTES: '6000' })
    let pulled = 0
    const body = new ReadableStream<Uint8Array>({
      pull(controller) {
        pulled++
        controller.enqueue(new Uint8Array(1024))
        if (pulled === 8) controller.close()
      },
    })
    const res = await f.call('/v1/files', {
      method: 'POST',
      headers: { 'content-type': 'application/octet-stream', 'content-length': '8192' },
      body,
      duplex: 'half',
    } as RequestInit)
    expect(res.status).toBe(413)
    expect(((await res.json()) as { error: { type: string } }).error.type).toBe('request_too_large')
    expect(await f.anthropic.requests()).toHaveLength(0)
  })
})

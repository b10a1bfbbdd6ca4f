/// <reference lib="deno.ns" />
import assert from 'node:assert/strict'
import { createApp } from '../../src/app.ts'
import { bindingsOnly } from '../../src/env.ts'
import { type DenoUpstream, startUpstream } from './support/upstream.ts'

/**
 * Uploads on Deno (issue 21, items 2 and 3): an upload slower than the header timeout is
 * answered (the timeout counts from when the body was sent whole), and a body past
 * `KEYLINE_MAX_UPLOAD_BYTES` is a 413 in Anthropic's error shape; an upload that stalls is a 408.
 */
const KEY = `sk-ant-test-${crypto.randomUUID()}`
const CLIENT_TOKEN = `client-token-${crypto.randomUUID()}`

const dribble = (count: number, size: number, everyMs: number): ReadableStream<Uint8Array> => {
  let sent = 0
  return new ReadableStream<Uint8Array>({
    async pull(controller) {
      await new Promise((resolve) => setTimeout(resolve, everyMs))
      if (sent++ < count) controller.enqueue(new Uint8Array(size).fill(0x61))
      else controller.close()
    },
  })
}

const withProxy = async (
  extra: Record<string, string>,
  run: (
    upload: (body: ReadableStream<Uint8Array>) => Promise<Response>,
    upstream: DenoUpstream
  ) => Promise<void>,
  idleTimeoutMs = 2000
): Promise<void> => {
  const upstream = startUpstream({ key: KEY })
  const app = createApp({
    env: bindingsOnly,
    retry: { maxRetries: 0, headersTimeoutMs: 150, idleTimeoutMs },
    logSink: () => {},
  })
  const bindings = {
    ANTHROPIC_API_KEY: KEY,
    ANTHROPIC_BASE_URL: upstream.url,
    KEYLINE_CLIENT_TOKENS: CLIENT_TOKEN,
    ...extra,
  }
  try {
    await run(
      async (body) =>
        await app.request(
          '/v1/files',
          {
            method: 'POST',
            headers: {
              authorization: `Bearer ${CLIENT_TOKEN}`,
              'content-type': 'application/octet-stream',
            },
            body,
            duplex: 'half',
          } as RequestInit,
          bindings
        ),
      upstream
    )
  } finally {
    await upstream.close()
  }
}

Deno.test('an upload slower than the header timeout is answered', async () => {
  await withProxy({}, async (upload) => {
    // 10 chunks 60 ms apart: ~600 ms of client time against a 150 ms header timeout.
    const res = await upload(dribble(10, 1000, 60))
    assert.equal(res.status, 200)
    assert.equal(((await res.json()) as { size_bytes: number }).size_bytes, 10_000)
  })
})

Deno.test('a body past KEYLINE_MAX_UPLOAD_BYTES is a 413 request_too_large', async () => {
  await withProxy({ KEYLINE_MAX_UPLOAD_BYTES: '4000' }, async (upload, upstream) => {
    const res = await upload(dribble(8, 1000, 1))
    assert.equal(res.status, 413)
    const body = (await res.json()) as { type: string; error: { type: string } }
    assert.equal(body.type, 'error')
    assert.equal(body.error.type, 'request_too_large')
    // The upstream saw the upload break off, never a truncated one ended as if whole.
    await new Promise((resolve) => setTimeout(resolve, 50))
    assert.ok(upstream.uploads.every((seen) => !seen.whole))
  })
})

Deno.test('an upload that stalls is a 408 once the idle timeout passes with nothing of it', async () => {
  await withProxy(
    {},
    async (upload) => {
      let sent = 0
      // Two chunks, then silence: the client neither sends more nor goes away.
      const stalled = new ReadableStream<Uint8Array>({
        pull(controller) {
          if (sent++ < 2) controller.enqueue(new Uint8Array(1000).fill(0x61))
          else return new Promise(() => {})
        },
      })
      const res = await upload(stalled)
      assert.equal(res.status, 408)
      const body = (await res.json()) as { error: { type: string; message: string } }
      assert.equal(body.error.type, 'invalid_request_error')
      assert.equal(body.error.message, 'The request body stalled: nothing of it arrived for 0.3 s')
    },
    300
  )
})

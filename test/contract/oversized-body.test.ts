import { expect, it } from 'vitest'
import { describeRuntimes, type RuntimeContext } from './harness/describe-runtimes.ts'

const CLIENT_TOKEN = `kl-test-${crypto.randomUUID()}`
const LIMIT = 1024 * 1024
const ROUNDS = 20

/** A body over the 1 MiB limit of `POST /v1/messages`: `size` bytes of a JSON string. */
const oversized = (size: number): string => `{"model":"${'x'.repeat(size - 12)}"}`

/** The same bytes as a stream, so the client sends them chunked, without a content-length. */
const chunked = (text: string): ReadableStream<Uint8Array> => {
  const bytes = new TextEncoder().encode(text)
  let offset = 0
  return new ReadableStream({
    pull(controller) {
      if (offset >= bytes.length) return controller.close()
      controller.enqueue(bytes.subarray(offset, offset + 64 * 1024))
      offset += 64 * 1024
    },
  })
}

const post = (ctx: RuntimeContext, body: string | ReadableStream<Uint8Array>) =>
  ctx.fetch('/v1/messages', {
    method: 'POST',
    headers: { authorization: `Bearer ${CLIENT_TOKEN}`, 'content-type': 'application/json' },
    body,
    ...(typeof body === 'string' ? {} : { duplex: 'half' }),
  } as RequestInit)

/** Outcomes by name: `413 request_too_large`, `200`, or the network error's code. */
const tally = async (
  rounds: number,
  send: () => Promise<Response>,
  ctx: RuntimeContext
): Promise<Record<string, number>> => {
  const seen: Record<string, number> = {}
  const note = (key: string): void => {
    seen[key] = (seen[key] ?? 0) + 1
  }
  const outcome = async (call: () => Promise<Response>): Promise<string> => {
    try {
      const res = await call()
      const text = await res.text()
      if (res.status !== 413) return String(res.status)
      const body = JSON.parse(text) as { error: { type: string; message: string } }
      return `413 ${body.error.type}`
    } catch (error) {
      const cause = (error as { cause?: { code?: string } }).cause
      return `error ${cause?.code ?? (error as Error).message}`
    }
  }
  for (let i = 0; i < rounds; i++) {
    note(await outcome(send))
    // the next request on the same kept-alive connection must be answered too
    note(await outcome(() => ctx.fetch('/healthz')))
  }
  return seen
}

/**
 * A 413 leaves a kept-alive connection usable: a pooled client (Node's `fetch`) that sends
 * oversized bodies again and again, each followed by another request, gets the 413 JSON error
 * every time and an answer to every following request, never a reset.
 */
describeRuntimes(
  'oversized request bodies on a kept-alive connection',
  (ctx) => {
    for (const size of [LIMIT + 64 * 1024, 2 * LIMIT]) {
      it(`answers every ${size}-byte body with 413 and keeps the connection answering`, async () => {
        const seen = await tally(ROUNDS, () => post(ctx, oversized(size)), ctx)
        expect(seen).toEqual({ '413 request_too_large': ROUNDS, '200': ROUNDS })
      })
    }

    it('answers every chunked oversized body with 413 and keeps the connection answering', async () => {
      const seen = await tally(ROUNDS, () => post(ctx, chunked(oversized(2 * LIMIT))), ctx)
      expect(seen).toEqual({ '413 request_too_large': ROUNDS, '200': ROUNDS })
    })
  },
  { runtimes: ['node', 'deno'], bindings: { KEYLINE_CLIENT_TOKENS: CLIENT_TOKEN } }
)

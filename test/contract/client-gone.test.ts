import { expect, it } from 'vitest'
import type { StubControl } from '../stubs/control.ts'
import { anthropicSessions } from './harness/anthropic-sessions.ts'
import { describeRuntimes, type RuntimeContext } from './harness/describe-runtimes.ts'

const CLIENT_TOKEN = `kl-test-${crypto.randomUUID()}`
const STREAM_BODY = JSON.stringify({
  model: 'claude-sonnet-4-5',
  max_tokens: 16,
  stream: true,
  messages: [{ role: 'user', content: 'hello' }],
})

const stubs = anthropicSessions(CLIENT_TOKEN)

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms))

/** The access lines (`msg: "request"`) the server wrote for the request with `requestId`. */
const accessLines = (ctx: RuntimeContext, requestId: string): Record<string, unknown>[] =>
  ctx.server
    .output()
    .split('\n')
    .filter((line) => line.startsWith('{') && line.includes(requestId))
    .map((line) => JSON.parse(line) as Record<string, unknown>)
    .filter((line) => line.msg === 'request' && line.request_id === requestId)

/**
 * Waits for the access line of `requestId`, then a little longer, to see it is the only one;
 * checks that the server wrote no `error` line meanwhile (output after `from`).
 */
const settledLines = async (ctx: RuntimeContext, requestId: string, from: number) => {
  const deadline = Date.now() + 5_000
  while (accessLines(ctx, requestId).length === 0 && Date.now() < deadline) await sleep(20)
  await sleep(300)
  expect(ctx.server.output().slice(from)).not.toContain('"level":"error"')
  return accessLines(ctx, requestId)
}

const call = (ctx: RuntimeContext, path: string, requestId: string, init: RequestInit = {}) =>
  ctx.fetch(path, {
    ...init,
    headers: {
      authorization: `Bearer ${CLIENT_TOKEN}`,
      'content-type': 'application/json',
      'x-request-id': requestId,
    },
  })

/**
 * A client that leaves ends as one quiet `info` access line with status 499, whatever the
 * moment it leaves: before the upstream's headers (the stub is slow) or in the middle of a
 * stream (the stub drips events and holds the last one back). Real servers, real sockets: on
 * Node the abort reaches keyline as `@hono/node-server`'s string reason, not an Error.
 */
describeRuntimes(
  'a client that goes away',
  (ctx) => {
    const session = (): StubControl => stubs.session(ctx.runtime)

    it('before the upstream answers: one info line, status 499', async () => {
      await session().mode({ kind: 'latency', ms: 1_500 })
      try {
        const from = ctx.server.output().length
        const requestId = crypto.randomUUID()
        const client = new AbortController()
        setTimeout(() => client.abort(), 300)
        await expect(
          call(ctx, '/v1/models', requestId, { signal: client.signal })
        ).rejects.toThrow()
        const lines = await settledLines(ctx, requestId, from)
        expect(lines).toEqual([
          expect.objectContaining({ level: 'info', status: 499, route: '/v1/models' }),
        ])
        expect(lines[0]).not.toHaveProperty('error')
      } finally {
        await session().mode(null)
      }
    })

    it('in the middle of a stream: one info line, status 499', async () => {
      await session().fault({ kind: 'drip', intervalMs: 10, gate: true })
      const from = ctx.server.output().length
      const requestId = crypto.randomUUID()
      const client = new AbortController()
      const res = await call(ctx, '/v1/messages', requestId, {
        method: 'POST',
        body: STREAM_BODY,
        signal: client.signal,
      })
      expect(res.status).toBe(200)
      const reader = (res.body as ReadableStream<Uint8Array>).getReader()
      expect((await reader.read()).done).toBe(false)
      await session().waitForGate(1)
      client.abort()
      const lines = await settledLines(ctx, requestId, from)
      expect(lines).toEqual([
        expect.objectContaining({ level: 'info', status: 499, route: '/v1/messages' }),
      ])
      expect(lines[0]).not.toHaveProperty('error')
      await session().release()
    })

    it('a stream the client reads to its end: one info line, status 200', async () => {
      await session().fault({ kind: 'drip', intervalMs: 5 })
      const from = ctx.server.output().length
      const requestId = crypto.randomUUID()
      const res = await call(ctx, '/v1/messages', requestId, { method: 'POST', body: STREAM_BODY })
      expect(res.status).toBe(200)
      expect(await res.text()).toContain('message_stop')
      const lines = await settledLines(ctx, requestId, from)
      expect(lines).toEqual([
        expect.objectContaining({ level: 'info', status: 200, route: '/v1/messages' }),
      ])
    })
  },
  {
    runtimes: ['node', 'deno'],
    bindings: stubs.bindings,
  }
)

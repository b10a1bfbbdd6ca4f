import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import { createApp } from '../../src/app.ts'
import { bindingsOnly } from '../../src/env.ts'
import type { RetryPolicy } from '../../src/upstream/retry-policy.ts'
import { buildMessage } from '../stubs/anthropic-wire.ts'

/**
 * How long keyline waits for an upstream's answer to begin, by provider, on a fake clock: a
 * Messages answer that is not streamed comes whole once the model has written it all, which
 * takes minutes for a long one (Anthropic's SDK waits 10 minutes); a quote takes a second. A
 * header timeout of 30 s for both used to cut long answers with a 504, after paying for them.
 */
const CLIENT_TOKEN = `client-${crypto.randomUUID()}`
const bindings = {
  KEYLINE_CLIENT_TOKENS: CLIENT_TOKEN,
  ANTHROPIC_API_KEY: `sk-ant-api03-${crypto.randomUUID()}`,
  ANTHROPIC_BASE_URL: 'https://anthropic.test',
  FYERS_CLIENT_ID: 'TESTAPP1-100',
  FYERS_ACCESS_TOKEN: `token-${crypto.randomUUID()}`,
  FYERS_BASE_URL: 'https://fyers.test',
}

/** An upstream that answers a Message after `ms` (never, without it), or aborts with the call. */
const answeringAfter =
  (ms?: number, attempts: number[] = []): typeof fetch =>
  (_input, init) =>
    new Promise<Response>((resolve, reject) => {
      attempts.push(Date.now())
      const signal = init?.signal
      const timer =
        ms === undefined
          ? undefined
          : setTimeout(
              () =>
                resolve(
                  Response.json(
                    buildMessage({
                      model: 'claude-sonnet-4-5',
                      text: 'Once upon a time.',
                      inputTokens: 5,
                    })
                  )
                ),
              ms
            )
      signal?.addEventListener('abort', () => {
        clearTimeout(timer)
        reject(signal.reason)
      })
    })

const appWith = (fetch: typeof globalThis.fetch, retry: Partial<RetryPolicy> = {}) =>
  createApp({ env: bindingsOnly, fetch, logSink: () => {}, retry: { maxRetries: 0, ...retry } })

const call = (app: ReturnType<typeof createApp>, path: string, body?: unknown): Promise<Response> =>
  Promise.resolve(
    app.request(
      path,
      {
        method: body === undefined ? 'GET' : 'POST',
        headers: { authorization: `Bearer ${CLIENT_TOKEN}`, 'content-type': 'application/json' },
        body: body === undefined ? undefined : JSON.stringify(body),
      },
      bindings
    )
  )

const MESSAGE = {
  model: 'claude-sonnet-4-5',
  max_tokens: 32_000,
  messages: [{ role: 'user', content: 'Write a long story.' }],
}

/** Whether `promise` settled (its value, or `pending`). */
const settled = async <T>(promise: Promise<T>): Promise<T | 'pending'> =>
  Promise.race([
    promise,
    new Promise<'pending'>((resolve) => queueMicrotask(() => resolve('pending'))),
  ])

describe('the header timeout, by provider', () => {
  beforeEach(() => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'Date'] })
  })
  afterEach(() => {
    vi.useRealTimers()
  })

  it('waits for a non-streamed Messages answer that takes minutes', async () => {
    const answer = call(appWith(answeringAfter(240_000)), '/v1/messages', MESSAGE)
    await vi.advanceTimersByTimeAsync(240_000)
    const res = await answer
    expect(res.status).toBe(200)
    expect(((await res.json()) as { type: string }).type).toBe('message')
  })

  it('gives an Anthropic answer that never begins 10 minutes, then answers 504', async () => {
    const answer = call(appWith(answeringAfter()), '/v1/messages', MESSAGE)
    await vi.advanceTimersByTimeAsync(599_000)
    expect(await settled(answer)).toBe('pending')
    await vi.advanceTimersByTimeAsync(1_000)
    const res = await answer
    expect(res.status).toBe(504)
    expect(((await res.json()) as { error: { type: string } }).error.type).toBe('timeout_error')
  })

  it('gives a Fyers quote 30 s', async () => {
    const answer = call(appWith(answeringAfter()), '/v1/quotes?symbols=NSE:SBIN-EQ')
    await vi.advanceTimersByTimeAsync(29_000)
    expect(await settled(answer)).toBe('pending')
    await vi.advanceTimersByTimeAsync(1_000)
    expect((await answer).status).toBe(504)
  })

  it('retries an Anthropic header timeout as a network error: three attempts of 10 minutes', async () => {
    const attempts: number[] = []
    const app = createApp({
      env: bindingsOnly,
      fetch: answeringAfter(undefined, attempts),
      logSink: () => {},
    })
    const started = Date.now()
    const answer = call(app, '/v1/messages', MESSAGE)
    // Two retries of the default policy, each after a backoff of at most 8 s.
    await vi.advanceTimersByTimeAsync(1_799_000)
    expect(await settled(answer)).toBe('pending')
    await vi.advanceTimersByTimeAsync(20_000)
    expect((await answer).status).toBe(504)
    expect(attempts.map((at) => Math.floor((at - started) / 600_000))).toEqual([0, 1, 2])
  })

  it('a headersTimeoutMs given to keyline is every provider’s', async () => {
    const app = appWith(answeringAfter(), { headersTimeoutMs: 5_000 })
    const answers = [
      call(app, '/v1/messages', MESSAGE),
      call(app, '/v1/quotes?symbols=NSE:SBIN-EQ'),
    ]
    await vi.advanceTimersByTimeAsync(5_000)
    expect((await Promise.all(answers)).map((res) => res.status)).toEqual([504, 504])
  })
})

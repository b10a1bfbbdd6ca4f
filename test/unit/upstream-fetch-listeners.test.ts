import { describe, expect, it } from 'vitest'
import { UpstreamError, upstreamFetch } from '../../src/upstream/fetch.ts'
import { retryPolicy } from '../../src/upstream/retry-policy.ts'

const policy = retryPolicy({ maxRetries: 2, baseDelayMs: 1, maxDelayMs: 5, headersTimeoutMs: 1000 })

/** The caller's signal, counting the `abort` listeners still on it. */
const countingSignal = (): { signal: AbortSignal; listeners: () => number } => {
  const { signal } = new AbortController()
  const live = new Set<unknown>()
  const add = signal.addEventListener.bind(signal)
  const remove = signal.removeEventListener.bind(signal)
  signal.addEventListener = ((type: string, listener: EventListener, options?: unknown) => {
    if (type === 'abort') live.add(listener)
    add(type, listener, options as AddEventListenerOptions)
  }) as typeof signal.addEventListener
  signal.removeEventListener = ((type: string, listener: EventListener, options?: unknown) => {
    if (type === 'abort') live.delete(listener)
    remove(type, listener, options as EventListenerOptions)
  }) as typeof signal.removeEventListener
  return { signal, listeners: () => live.size }
}

/** An upstream answering `statuses` in turn (a `0` is a network failure). */
const upstream = (statuses: number[]): typeof fetch => {
  let n = 0
  return async () => {
    const status = statuses[n++] ?? 200
    if (status === 0) throw new TypeError('fetch failed')
    return new Response('{}', { status })
  }
}

const call = (fetch: typeof globalThis.fetch, signal: AbortSignal) =>
  upstreamFetch(
    { url: 'http://upstream.test/v1/x', method: 'POST', headers: {}, body: '{}' },
    { policy, fetch, signal, random: () => 0.5 }
  )

describe("upstreamFetch and the caller's signal", () => {
  it('leaves no listener of a retried attempt or of a backoff behind', async () => {
    const { signal, listeners } = countingSignal()
    const res = await call(upstream([503, 0, 200]), signal)
    expect(res.status).toBe(200)
    await res.body?.cancel()
    // Only the answer handed back still listens: the caller's signal still aborts its body.
    expect(listeners()).toBe(1)
  })

  it('leaves none behind when every attempt failed', async () => {
    const { signal, listeners } = countingSignal()
    const error = await call(upstream([0, 0, 0]), signal).catch((e: unknown) => e)
    expect(error).toBeInstanceOf(UpstreamError)
    expect(listeners()).toBe(0)
  })

  it("still aborts the answer's body when the caller's signal fires after the headers", async () => {
    const controller = new AbortController()
    let seen: AbortSignal | undefined
    const res = await upstreamFetch(
      { url: 'http://upstream.test/v1/x', method: 'GET', headers: {} },
      {
        policy,
        signal: controller.signal,
        fetch: async (_input, init) => {
          seen = init?.signal ?? undefined
          return new Response('{}')
        },
      }
    )
    expect(res.status).toBe(200)
    controller.abort(new Error('client gone'))
    expect(seen?.aborted).toBe(true)
  })
})

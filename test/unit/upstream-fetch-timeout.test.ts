import { describe, expect, it, vi } from 'vitest'
import { KeylineError } from '../../src/errors/keyline-error.ts'
import { UpstreamError, upstreamFetch } from '../../src/upstream/fetch.ts'
import { ReplayableBody } from '../../src/upstream/replayable-body.ts'
import { retryPolicy } from '../../src/upstream/retry-policy.ts'

const policy = retryPolicy({ maxRetries: 0, headersTimeoutMs: 100, idleTimeoutMs: 1000 })
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))

/** A client body of `count` chunks, `everyMs` apart. */
const slowClient = (count: number, everyMs: number): ReadableStream<Uint8Array> => {
  let sent = 0
  return new ReadableStream<Uint8Array>({
    async pull(controller) {
      await sleep(everyMs)
      if (sent++ < count) controller.enqueue(new Uint8Array(16))
      else controller.close()
    },
  })
}

/** An upstream that reads `take` chunks of the body (all when undefined), then answers 200 (or never). */
const upstream =
  (take: number | undefined, answer: boolean): typeof fetch =>
  async (_input, init = {}) => {
    const reader = (init.body as ReadableStream<Uint8Array>).getReader()
    for (let i = 0; take === undefined || i < take; i++) {
      if ((await reader.read()).done) break
    }
    if (!answer) {
      await new Promise((_, reject) =>
        init.signal?.addEventListener('abort', () => reject(new Error('aborted')))
      )
    }
    return new Response('{}', { status: 200 })
  }

const send = (body: ReadableStream<Uint8Array>, fetch: typeof globalThis.fetch) =>
  upstreamFetch(
    {
      url: 'http://upstream.test/v1/files',
      method: 'POST',
      headers: {},
      body: new ReplayableBody(body),
    },
    { policy, fetch }
  )

describe('the header timeout of a streamed upload', () => {
  it('does not count the time the client takes to send its body', async () => {
    // 8 chunks 40 ms apart: ~360 ms of client time, more than three times the 100 ms timeout.
    const res = await send(slowClient(8, 40), upstream(undefined, true))
    expect(res.status).toBe(200)
  })

  it('counts from when the body was sent whole, for an upstream that then says nothing', async () => {
    const started = Date.now()
    const error = await send(slowClient(4, 40), upstream(undefined, false)).catch((e) => e)
    expect(error).toBeInstanceOf(UpstreamError)
    expect((error as UpstreamError).kind).toBe('timeout')
    expect(Date.now() - started).toBeGreaterThanOrEqual(200)
  })

  it('counts while an upstream stops taking the body', async () => {
    // The upstream reads two chunks, then neither reads nor answers: a timeout, not a hang.
    const error = await send(slowClient(100, 1), upstream(2, false)).catch((e) => e)
    expect(error).toBeInstanceOf(UpstreamError)
    expect((error as UpstreamError).kind).toBe('timeout')
  })
})

describe('a streamed upload that fails on the client side', () => {
  it('aborts the upstream call instead of pumping the error into the request it sends', async () => {
    // The client sends one chunk, then breaks off.
    let sent = false
    const client = new ReadableStream<Uint8Array>({
      pull(controller) {
        if (sent) controller.error(new Error('the client broke off its upload'))
        else controller.enqueue(new Uint8Array(8))
        sent = true
      },
    })
    const seen: string[] = []
    // An upstream that reads the body as a runtime's fetch does, and gives up when aborted.
    const fetch: typeof globalThis.fetch = (_input, init = {}) =>
      new Promise((_, reject) => {
        const signal = init.signal as AbortSignal
        signal.addEventListener('abort', () => {
          seen.push('aborted')
          reject(signal.reason)
        })
        const reader = (init.body as ReadableStream<Uint8Array>).getReader()
        const pump = (): Promise<void> =>
          reader.read().then(
            (read) => (read.done ? undefined : pump()),
            (error: Error) => {
              seen.push(`body errored: ${error.message}`)
            }
          )
        void pump()
      })
    const error = await send(client, fetch).catch((e) => e)
    expect(seen).toEqual(['aborted'])
    // The client's failure is the answer: a 400, not an upstream error to retry.
    expect(error).not.toBeInstanceOf(UpstreamError)
    expect(error).toMatchObject({ status: 400, type: 'invalid_request_error' })
  })
})

/** A client body that sends `count` chunks, then nothing more, ever. */
const stalledClient = (count: number): ReadableStream<Uint8Array> => {
  let sent = 0
  return new ReadableStream<Uint8Array>({
    pull(controller) {
      if (sent++ < count) controller.enqueue(new Uint8Array(16))
      else return new Promise(() => {})
    },
  })
}

/** An upstream that reads the body as a runtime's fetch does, counts its calls, and gives up when aborted. */
const readingUpstream = () => {
  let calls = 0
  const fetch: typeof globalThis.fetch = (_input, init = {}) => {
    calls++
    return new Promise((_, reject) => {
      const signal = init.signal as AbortSignal
      signal.addEventListener('abort', () => reject(signal.reason))
      const reader = (init.body as ReadableStream<Uint8Array>).getReader()
      const pump = (): Promise<void> =>
        reader.read().then(
          (read) => (read.done ? undefined : pump()),
          () => {}
        )
      void pump()
    })
  }
  return { fetch, calls: () => calls }
}

describe('the silence bound of a streamed upload', () => {
  const idlePolicy = retryPolicy({
    maxRetries: 2,
    baseDelayMs: 1,
    headersTimeoutMs: 10_000,
    idleTimeoutMs: 150,
  })
  const upload = (body: ReadableStream<Uint8Array>, fetch: typeof globalThis.fetch) =>
    upstreamFetch(
      {
        url: 'http://upstream.test/v1/files',
        method: 'POST',
        headers: {},
        body: new ReplayableBody(body),
      },
      { policy: idlePolicy, fetch }
    )

  it('answers 408 once the client sends nothing for the idle timeout, in one attempt', async () => {
    const upstream = readingUpstream()
    const error = await upload(stalledClient(2), upstream.fetch).catch((e) => e)
    expect(error).toBeInstanceOf(KeylineError)
    expect(error).toMatchObject({ status: 408, type: 'invalid_request_error' })
    expect((error as Error).message).toBe(
      'The request body stalled: nothing of it arrived for 0.15 s'
    )
    // Not the 10 s header timeout's 504; and the client's silence is not retried.
    expect(upstream.calls()).toBe(1)
  })

  it('never cuts an upload that keeps coming, however long it takes in all', async () => {
    // 10 chunks 50 ms apart: 500 ms in all, more than three times the 150 ms bound.
    const res = await upload(slowClient(10, 50), upstream(undefined, true))
    expect(res.status).toBe(200)
  })

  it('leaves the header timeout on time after an upload longer than it (fake clock)', async () => {
    vi.useFakeTimers()
    try {
      const policy = retryPolicy({ maxRetries: 0, headersTimeoutMs: 200, idleTimeoutMs: 100 })
      let settled: unknown
      void upstreamFetch(
        {
          url: 'http://upstream.test/v1/files',
          method: 'POST',
          headers: {},
          body: new ReplayableBody(slowClient(7, 40)),
        },
        { policy, fetch: upstream(undefined, false) }
      ).then(
        (res) => {
          settled = res
        },
        (error: unknown) => {
          settled = error
        }
      )
      // The client: 7 chunks and the end, 40 ms apart (320 ms); then the upstream says nothing.
      await vi.advanceTimersByTimeAsync(320 + 190)
      expect(settled).toBeUndefined()
      await vi.advanceTimersByTimeAsync(20)
      expect(settled).toBeInstanceOf(UpstreamError)
      expect((settled as UpstreamError).kind).toBe('timeout')
    } finally {
      vi.useRealTimers()
    }
  })
})

import { KeylineError } from '../errors/keyline-error.ts'
import { runtimeName } from '../runtime.ts'
import type { ReplayableBody } from './replayable-body.ts'
import { backoffMs, isRetryableStatus, type RetryPolicy } from './retry-policy.ts'
import { readWhole } from './stream.ts'
import { UpstreamError } from './upstream-error.ts'

export { UpstreamError, type UpstreamFailureKind } from './upstream-error.ts'

/**
 * How long an upstream asked us to wait, in milliseconds: `retry-after-ms` first (Anthropic),
 * then `retry-after` as seconds or an HTTP date. `undefined` when neither is usable.
 */
export const retryAfterMs = (headers: Headers, now: number = Date.now()): number | undefined => {
  const rawMs = headers.get('retry-after-ms')
  if (rawMs !== null) {
    const ms = Number.parseFloat(rawMs)
    if (Number.isFinite(ms) && ms >= 0) return ms
  }
  const raw = headers.get('retry-after')?.trim()
  if (!raw) return undefined
  if (/^\d+(\.\d+)?$/.test(raw)) return Number.parseFloat(raw) * 1000
  const date = Date.parse(raw)
  return Number.isNaN(date) ? undefined : Math.max(0, date - now)
}

/** One upstream request, rebuilt for every attempt so a body can be sent again. */
export interface UpstreamRequest {
  url: string
  method: string
  /** Lower-cased names: no `Headers` object is built for a call (fetch takes a record). */
  headers: Record<string, string>
  /**
   * The body: bytes or text sent again on every attempt, or a streamed body, which is retried
   * only while it is still {@link ReplayableBody.replayable}.
   */
  body?: string | Uint8Array<ArrayBuffer> | ReplayableBody
}

const isStreamed = (body: UpstreamRequest['body']): body is ReplayableBody =>
  typeof body === 'object' && !(body instanceof Uint8Array)

/** Options of {@link upstreamFetch}. */
export interface UpstreamFetchOptions {
  policy: RetryPolicy
  /** Aborts everything, e.g. when the client goes away. */
  signal?: AbortSignal
  /** @default globalThis.fetch */
  fetch?: typeof fetch
  /**
   * Whether an answer is read whole before it is handed back (one relayed in one piece, such as
   * a JSON answer, rather than streamed): its body breaking off or falling silent half-way
   * (`idleTimeoutMs`) then fails the attempt, which is retried like a reset before the headers,
   * nothing of it having reached the client. `readBody` gives the text read.
   * @default no answer is read whole here
   */
  whole?: (response: Response) => boolean
  /** Called before each retry with the attempt number and the delay. */
  onRetry?: (attempt: number, delayMs: number, reason: number | UpstreamError) => void
  /** Backoff randomness, for tests. @default Math.random */
  random?: () => number
}

const sleep = (ms: number, signal?: AbortSignal): Promise<void> =>
  new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(signal.reason)
    const onAbort = (): void => {
      clearTimeout(timer)
      reject(signal?.reason)
    }
    // The listener goes once the delay is over: a caller's signal outlives many attempts.
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort)
      resolve()
    }, ms)
    signal?.addEventListener('abort', onAbort, { once: true })
  })

const globalFetch: typeof fetch = (input, init) => fetch(input, init)

/**
 * A `content-encoding` the runtime's `fetch` hands back decoded, exactly, by runtime: on Node
 * (undici, and `nodeFetch`, which drops the header of what it decoded) a list of `gzip`, `br`
 * and `deflate`, no empty item (undici leaves `gzip,` undecoded); on Deno one `gzip` or `br` in
 * any case (it leaves stacks and `x-gzip`); elsewhere (workerd) one of them as written (it
 * leaves `GZIP`, `x-gzip`, `gzip, br` undecoded).
 */
const DECODED_CODINGS: Readonly<Record<string, RegExp>> = {
  node: /^\s*(gzip|br|deflate)\s*(,\s*(gzip|br|deflate)\s*)*$/i,
  deno: /^\s*(gzip|br)\s*$/i,
}
const DECODED_ELSEWHERE = /^\s*(gzip|br)\s*$/

/**
 * Whether an answer's body may reach keyline still encoded: its `content-encoding` is not one
 * the runtime's `fetch` decodes (`zstd`, an unknown name, `identity`, which no answer may name,
 * `deflate` off Node). Such bytes would pass the redaction unread.
 */
export const undecodedCoding = (headers: Headers): boolean => {
  const value = headers.get('content-encoding')
  return !!value && !(DECODED_CODINGS[runtimeName()] ?? DECODED_ELSEWHERE).test(value)
}

/**
 * One attempt's signal: aborted by the header timeout or by the caller's signal, which keeps
 * applying to the body after the headers. The header timeout counts only time spent waiting on
 * the upstream: it runs from the start (connecting), stops while a streamed request body waits
 * on the client ({@link AttemptAbort.wait}: a slow upload is the client's time, not the
 * upstream's), counts again, from zero, whenever the body waits on the upstream to take more (so
 * an upstream that stops reading still times out) and once the body is sent whole, and ends with
 * {@link AttemptAbort.disarm} when the headers arrive. With `clientIdleMs`, a client that
 * sends nothing of its body for that long aborts the attempt with a 408 (its reason), as an
 * upstream silent that long fails its answer. One timer for the attempt, not one per chunk of
 * a streamed body (timers are not free, on Deno least of all): a chunk only notes whom the
 * attempt waits on, and since when.
 */
class AttemptAbort {
  readonly #controller = new AbortController()
  readonly signal: AbortSignal = this.#controller.signal
  readonly #timeoutMs: number
  readonly #clientIdleMs: number | undefined
  #state: 'running' | 'done' | 'fired' = 'running'
  #onClient = false
  /** Since when the attempt waits on the upstream (or, while {@link #onClient}, the client). */
  #since = Date.now()
  #timer: ReturnType<typeof setTimeout>
  /** The caller's signal while this attempt listens to it: {@link release} lets it go. */
  #caller: AbortSignal | undefined

  constructor(signal: AbortSignal | undefined, timeoutMs: number, clientIdleMs?: number) {
    this.#timeoutMs = timeoutMs
    this.#clientIdleMs = clientIdleMs
    this.#timer = setTimeout(this.#check, Math.min(timeoutMs, clientIdleMs ?? timeoutMs))
    if (signal) {
      if (signal.aborted) this.#controller.abort(signal.reason)
      else {
        this.#caller = signal
        signal.addEventListener('abort', this.#onCallerAbort, { once: true })
      }
    }
  }

  readonly #onCallerAbort = (): void => {
    const reason = this.#caller?.reason
    this.#caller = undefined
    this.#controller.abort(reason)
  }

  /**
   * Stops listening to the caller's signal: the attempt is over (it failed, or its answer is
   * dropped for a retry). The attempt whose answer is handed back keeps listening, since the
   * caller's signal still aborts its body. Without it every attempt left a listener behind on a
   * signal that outlives it.
   */
  release(): void {
    this.#caller?.removeEventListener('abort', this.#onCallerAbort)
    this.#caller = undefined
  }

  readonly #check = (): void => {
    if (this.#state !== 'running') return
    const idle = this.#clientIdleMs
    const bound = this.#onClient ? (idle ?? Number.POSITIVE_INFINITY) : this.#timeoutMs
    const left = this.#since + bound - Date.now()
    if (left > 0) {
      // Looked at again when the bound passes, and within `idle` of a wait on the client.
      this.#timer = setTimeout(this.#check, Math.min(left, this.#timeoutMs, idle ?? left))
      return
    }
    this.#state = 'fired'
    this.#controller.abort(
      this.#onClient
        ? new KeylineError(
            408,
            'invalid_request_error',
            `The request body stalled: nothing of it arrived for ${(idle ?? 0) / 1000} s`
          )
        : undefined
    )
  }

  /** Aborts the attempt: its streamed body failed, or cannot be sent whole (the body says why). */
  readonly fail = (): void => {
    this.#controller.abort()
  }

  /**
   * `client`: the timeout stops counting (the client's silence bound counts instead, if any);
   * `upstream`: it counts again, from zero.
   */
  readonly wait = (on: 'client' | 'upstream'): void => {
    this.#onClient = on === 'client'
    this.#since = Date.now()
  }

  disarm(): void {
    if (this.#state === 'running') this.#state = 'done'
    clearTimeout(this.#timer)
  }

  /** Whether the header timeout aborted the attempt. */
  get timedOut(): boolean {
    return this.#state === 'fired'
  }
}

/** The error of an attempt whose request body failed on the client's side. */
const clientBodyError = (reason: unknown): KeylineError =>
  reason instanceof KeylineError
    ? reason
    : new KeylineError(
        400,
        'invalid_request_error',
        'The request body ended before it was complete',
        {
          cause: reason,
        }
      )

/**
 * Sends one request upstream with `redirect: "manual"`, a per-attempt timeout for the response
 * headers (counting only time spent waiting on the upstream, not on a client's slow upload:
 * see {@link AttemptAbort}), and retries with exponential
 * backoff and jitter on 429, 529, 5xx and network errors, honouring `retry-after-ms` and
 * `retry-after`. Retries happen only before any response is handed back, so nothing has reached
 * the client yet (an answer read {@link UpstreamFetchOptions.whole} is retried too when its body
 * breaks off), and for a streamed body only while it is still replayable (small enough to have
 * been kept whole). The last retryable response is returned as it is; a redirect, a timeout or
 * an unreachable upstream throws {@link UpstreamError}; a streamed request body that failed on
 * the client's side (it broke off, or passed its limit) throws that failure as a
 * {@link KeylineError} (400, or the limit's 413), which is no upstream failure.
 */
export const upstreamFetch = async (
  request: UpstreamRequest,
  options: UpstreamFetchOptions
): Promise<Response> => {
  const { policy, signal } = options
  const doFetch = options.fetch ?? globalFetch
  const streamed = isStreamed(request.body) ? request.body : undefined
  for (let attempt = 1; ; attempt++) {
    // A streamed body may fall silent no longer than an upstream's answer may.
    const abort = new AttemptAbort(
      signal,
      policy.headersTimeoutMs,
      streamed ? policy.idleTimeoutMs : undefined
    )
    let outcome: Response | UpstreamError
    try {
      const init: RequestInit & { duplex?: 'half' } = {
        method: request.method,
        headers: request.headers,
        body: streamed
          ? streamed.stream(abort.wait, abort.fail)
          : (request.body as string | Uint8Array<ArrayBuffer>),
        redirect: 'manual',
        signal: abort.signal,
      }
      // A stream body goes out as it comes (Node's fetch asks for half duplex to say so).
      if (streamed) init.duplex = 'half'
      outcome = await doFetch(request.url, init)
      abort.disarm()
      const { status } = outcome
      if (
        (status < 300 || status >= 400) &&
        !isRetryableStatus(status) &&
        options.whole?.(outcome)
      ) {
        await readWhole(outcome, policy.idleTimeoutMs, signal)
      }
      // A runtime may end a request body that failed as if it were complete (workerd does), and
      // hand back the upstream's answer to a truncated body: the failure is the client's still.
      if (streamed?.failure) {
        await outcome.body?.cancel().catch(() => {})
        throw clientBodyError(streamed.failure.reason)
      }
    } catch (error) {
      abort.disarm()
      abort.release()
      if (signal?.aborted) throw signal.reason
      // The client's body stalled: its 408, not an upstream failure, and no retry.
      if (abort.signal.reason instanceof KeylineError) throw abort.signal.reason
      if (error instanceof KeylineError) throw error
      if (streamed?.failure) throw clientBodyError(streamed.failure.reason)
      outcome =
        error instanceof UpstreamError
          ? new UpstreamError(error.kind, attempt, error.cause)
          : new UpstreamError(abort.timedOut ? 'timeout' : 'network', attempt, error)
    }
    if (outcome instanceof Response && outcome.status >= 300 && outcome.status < 400) {
      abort.release()
      await outcome.body?.cancel()
      throw new UpstreamError('redirect', attempt)
    }
    const retryable =
      (outcome instanceof UpstreamError || isRetryableStatus(outcome.status)) &&
      (!streamed || streamed.replayable)
    if (!retryable || attempt > policy.maxRetries) {
      if (outcome instanceof UpstreamError) throw outcome
      return outcome
    }
    const asked = outcome instanceof Response ? retryAfterMs(outcome.headers) : undefined
    if (asked !== undefined && asked > policy.maxDelayMs) {
      if (outcome instanceof Response) return outcome
      throw outcome
    }
    const delay = asked ?? backoffMs(policy, attempt, options.random)
    // This attempt's answer is dropped: it no longer listens to the caller's signal.
    abort.release()
    if (outcome instanceof Response) await outcome.body?.cancel()
    options.onRetry?.(attempt, delay, outcome instanceof Response ? outcome.status : outcome)
    await sleep(delay, signal)
  }
}

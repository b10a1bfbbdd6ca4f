import { KeylineError } from '../errors/keyline-error.ts'
import type { ReplayableBody } from './replayable-body.ts'
import { backoffMs, isRetryableStatus, type RetryPolicy } from './retry-policy.ts'

/** Why an upstream call produced no response at all. */
export type UpstreamFailureKind = 'timeout' | 'network' | 'redirect'

/** An upstream call that produced no usable response: timed out, unreachable, or redirected. */
export class UpstreamError extends Error {
  override name = 'UpstreamError'
  readonly kind: UpstreamFailureKind
  readonly attempts: number

  constructor(kind: UpstreamFailureKind, attempts: number, cause?: unknown) {
    super(
      kind === 'timeout'
        ? 'The upstream did not answer in time'
        : kind === 'redirect'
          ? 'The upstream answered with a redirect, which keyline never follows'
          : 'The upstream could not be reached',
      cause === undefined ? undefined : { cause }
    )
    this.kind = kind
    this.attempts = attempts
  }

  /** The client-facing error: 504 `timeout_error`, 502 `upstream_redirect` or `upstream_unreachable`. */
  toKeylineError(provider: string): KeylineError {
    if (this.kind === 'timeout') {
      return new KeylineError(504, 'timeout_error', this.message, { details: { provider } })
    }
    const type = this.kind === 'redirect' ? 'upstream_redirect' : 'upstream_unreachable'
    return new KeylineError(502, type, this.message, { details: { provider } })
  }
}

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
  headers: Headers
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
  /** Called before each retry with the attempt number and the delay. */
  onRetry?: (attempt: number, delayMs: number, reason: number | UpstreamError) => void
  /** Backoff randomness, for tests. @default Math.random */
  random?: () => number
}

const sleep = (ms: number, signal?: AbortSignal): Promise<void> =>
  new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(signal.reason)
    const timer = setTimeout(resolve, ms)
    signal?.addEventListener(
      'abort',
      () => {
        clearTimeout(timer)
        reject(signal.reason)
      },
      { once: true }
    )
  })

const globalFetch: typeof fetch = (input, init) => fetch(input, init)

/**
 * One attempt's signal: aborted by the header timeout (cleared once headers arrive) or by the
 * caller's signal, which keeps applying to the body after the headers.
 */
const attemptSignal = (signal: AbortSignal | undefined, timeoutMs: number) => {
  const controller = new AbortController()
  const timer = setTimeout(() => controller.abort(), timeoutMs)
  if (signal) {
    if (signal.aborted) controller.abort(signal.reason)
    else signal.addEventListener('abort', () => controller.abort(signal.reason), { once: true })
  }
  return { signal: controller.signal, timer }
}

/**
 * Sends one request upstream with `redirect: "manual"`, a per-attempt timeout for the response
 * headers, and retries with exponential backoff and jitter on 429, 529, 5xx and network errors,
 * honouring `retry-after-ms` and `retry-after`. Retries happen only before any response is
 * handed back, so nothing has reached the client yet, and for a streamed body only while it is
 * still replayable (small enough to have been kept whole). The last retryable response is returned
 * as it is; a redirect, a timeout or an unreachable upstream throws {@link UpstreamError}.
 */
export const upstreamFetch = async (
  request: UpstreamRequest,
  options: UpstreamFetchOptions
): Promise<Response> => {
  const { policy, signal } = options
  const doFetch = options.fetch ?? globalFetch
  const streamed = isStreamed(request.body) ? request.body : undefined
  for (let attempt = 1; ; attempt++) {
    const attemptAbort = attemptSignal(signal, policy.headersTimeoutMs)
    let outcome: Response | UpstreamError
    try {
      const init: RequestInit & { duplex?: 'half' } = {
        method: request.method,
        headers: request.headers,
        body: streamed ? streamed.stream() : (request.body as string | Uint8Array<ArrayBuffer>),
        redirect: 'manual',
        signal: attemptAbort.signal,
      }
      // A stream body goes out as it comes (Node's fetch asks for half duplex to say so).
      if (streamed) init.duplex = 'half'
      outcome = await doFetch(request.url, init)
    } catch (error) {
      if (signal?.aborted) throw signal.reason
      const kind = attemptAbort.signal.aborted ? 'timeout' : 'network'
      outcome = new UpstreamError(kind, attempt, error)
    } finally {
      clearTimeout(attemptAbort.timer)
    }
    if (outcome instanceof Response && outcome.status >= 300 && outcome.status < 400) {
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
    if (outcome instanceof Response) await outcome.body?.cancel()
    options.onRetry?.(attempt, delay, outcome instanceof Response ? outcome.status : outcome)
    await sleep(delay, signal)
  }
}

import { retryAfterMs } from './retry-after.ts'
import { backoffMs, isRetryableStatus, type RetryPolicy } from './retry-policy.ts'
import { UpstreamError } from './upstream-error.ts'

/** One upstream request, rebuilt for every attempt so a body can be sent again. */
export interface UpstreamRequest {
  url: string
  method: string
  headers: Headers
  body?: string
}

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

/**
 * Sends one request upstream with `redirect: "manual"`, a per-attempt timeout for the response
 * headers, and retries with exponential backoff and jitter on 429, 529, 5xx and network errors,
 * honouring `retry-after-ms` and `retry-after`. Retries happen only before any response is
 * handed back, so nothing has reached the client yet. The last retryable response is returned
 * as it is; a redirect, a timeout or an unreachable upstream throws {@link UpstreamError}.
 */
export const upstreamFetch = async (
  request: UpstreamRequest,
  options: UpstreamFetchOptions
): Promise<Response> => {
  const { policy, signal } = options
  const doFetch = options.fetch ?? ((input, init) => fetch(input, init))
  for (let attempt = 1; ; attempt++) {
    const headersTimeout = new AbortController()
    const timer = setTimeout(() => headersTimeout.abort(), policy.headersTimeoutMs)
    const combined = signal
      ? AbortSignal.any([signal, headersTimeout.signal])
      : headersTimeout.signal
    let outcome: Response | UpstreamError
    try {
      outcome = await doFetch(request.url, {
        method: request.method,
        headers: request.headers,
        body: request.body,
        redirect: 'manual',
        signal: combined,
      })
    } catch (error) {
      if (signal?.aborted) throw signal.reason
      outcome = new UpstreamError(
        headersTimeout.signal.aborted ? 'timeout' : 'network',
        attempt,
        error
      )
    } finally {
      clearTimeout(timer)
    }
    if (outcome instanceof Response && outcome.status >= 300 && outcome.status < 400) {
      await outcome.body?.cancel()
      throw new UpstreamError('redirect', attempt)
    }
    const retryable = outcome instanceof UpstreamError || isRetryableStatus(outcome.status)
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

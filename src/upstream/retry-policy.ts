/** How an upstream call is retried and timed out. */
export interface RetryPolicy {
  /**
   * Retries after the first attempt, on 429, 529, other 5xx and network errors.
   * @default 2
   */
  maxRetries: number
  /**
   * First backoff; doubles each retry, with full jitter.
   * @default 250
   */
  baseDelayMs: number
  /**
   * Longest backoff between two attempts, `retry-after` included; a longer ask is not retried.
   * @default 8000
   */
  maxDelayMs: number
  /**
   * Time allowed for the upstream's response headers, per attempt.
   * @default 30000
   */
  headersTimeoutMs: number
  /**
   * Longest silence allowed inside a streamed response body.
   * @default 60000
   */
  idleTimeoutMs: number
}

/** The defaults of {@link RetryPolicy}. */
export const DEFAULT_RETRY_POLICY: RetryPolicy = {
  maxRetries: 2,
  baseDelayMs: 250,
  maxDelayMs: 8000,
  headersTimeoutMs: 30_000,
  idleTimeoutMs: 60_000,
}

/** Fills in and checks a partial policy; throws a `RangeError` naming a bad field. */
export const retryPolicy = (partial: Partial<RetryPolicy> = {}): RetryPolicy => {
  const policy = { ...DEFAULT_RETRY_POLICY, ...partial }
  for (const [name, value] of Object.entries(policy)) {
    if (!Number.isFinite(value) || value < 0) {
      throw new RangeError(`retry policy ${name} must be a non-negative number`)
    }
  }
  if (!Number.isInteger(policy.maxRetries)) throw new RangeError('maxRetries must be an integer')
  return policy
}

/** Statuses worth another attempt: rate limited, overloaded, or a server error. */
export const isRetryableStatus = (status: number): boolean =>
  status === 429 || status === 529 || (status >= 500 && status <= 599)

/** Exponential backoff with full jitter for attempt `n` (1 = first retry). */
export const backoffMs = (
  policy: RetryPolicy,
  n: number,
  random: () => number = Math.random
): number => Math.min(policy.maxDelayMs, policy.baseDelayMs * 2 ** (n - 1)) * random()

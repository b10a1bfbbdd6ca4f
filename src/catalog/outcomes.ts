/**
 * How an upstream call can end, as every provider's error table and the telemetry see it:
 * the facts known of a failure, the token usage of a success, a key probe's verdict.
 */

/** What is known about a failed upstream call; every field is optional. */
export interface FailureFacts {
  /** HTTP status of the upstream answer, when there was one. */
  httpStatus?: number
  /** Anthropic's `error.type` from the error body, when there was one. */
  apiErrorType?: string
  /** Fyers' `code` from the error envelope, when there was one. */
  fyersCode?: number
  /** The call never got an answer: it timed out or the network failed. */
  transport?: 'timeout' | 'network'
  /** The upstream answered, but not with a body keyline can read. */
  invalidResponse?: boolean
}

/** Failures that never got an answer: the call timed out or the network failed. */
export const TRANSPORT_ERROR_TYPES = ['timeout', 'network'] as const

/** Token usage seen in an answer, streamed or not. */
export interface TokenUsage {
  input: number
  output: number
}

/** How an upstream call ended, as far as health and metrics care. */
export type CallEnd = { ok: true; usage?: TokenUsage } | { ok: false; facts: FailureFacts }

/** What a validity probe concluded about a key. */
export interface ProbeVerdict {
  readonly state: 'valid' | 'invalid' | 'unknown'
  readonly reason?: string
}

/**
 * The verdict of a probe answered with HTTP `status`: valid iff 200; a 429 or 5xx says nothing
 * about the credential (the upstream is busy or failing).
 */
export const verdictOfStatus = (status: number): ProbeVerdict =>
  status === 200
    ? { state: 'valid' }
    : { state: status === 429 || status >= 500 ? 'unknown' : 'invalid', reason: `http_${status}` }

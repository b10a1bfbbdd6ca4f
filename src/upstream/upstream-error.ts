import { KeylineError } from '../errors/keyline-error.ts'

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

import { KeylineError } from '../errors/keyline-error.ts'
import type { UpstreamError } from './upstream-error.ts'

/** The client-facing error for an upstream that timed out, was unreachable, or redirected. */
export const upstreamFailure = (provider: string, error: UpstreamError): KeylineError => {
  if (error.kind === 'timeout') {
    return new KeylineError(504, 'timeout_error', error.message, { details: { provider } })
  }
  const type = error.kind === 'redirect' ? 'upstream_redirect' : 'upstream_unreachable'
  return new KeylineError(502, type, error.message, { details: { provider } })
}

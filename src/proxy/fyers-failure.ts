import type { FyersApiError } from '../clients/fyers.ts'
import { KeylineError } from '../errors/keyline-error.ts'

/**
 * The client-facing error for a failed Fyers call. Fyers' own message is not relayed; the
 * Fyers code is. Rejected tokens (HTTP 401, codes -15/-16) become `upstream_auth_failed`,
 * rate limiting (code -353 or HTTP 429) a 429.
 */
export const fyersFailure = (error: FyersApiError): KeylineError => {
  const details = {
    provider: 'fyers',
    fyers_code: error.code ?? null,
    upstream_status: error.httpStatus,
  }
  if (error.isAuthError) {
    return new KeylineError(
      502,
      'upstream_auth_failed',
      'Fyers rejected the access token: refresh it or rotate FYERS_ACCESS_TOKEN',
      { details }
    )
  }
  if (error.isRateLimited) {
    return new KeylineError(429, 'rate_limited', 'Fyers is rate limiting requests; retry later', {
      details,
      headers: error.retryAfter ? { 'retry-after': error.retryAfter } : {},
    })
  }
  return new KeylineError(502, 'upstream_error', 'Fyers could not answer the request', { details })
}

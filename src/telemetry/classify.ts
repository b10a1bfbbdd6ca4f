import {
  type AiErrorType,
  ANTHROPIC_API_ERROR_TYPES,
  FYERS_AUTH_CODES,
  FYERS_INVALID_REQUEST_CODES,
  FYERS_INVALID_SYMBOL_CODES,
  FYERS_RATE_LIMIT_CODES,
  type FyersErrorType,
  OTHER,
} from './attributes.ts'

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
  /** Fyers answered, but not with a usable JSON envelope. */
  invalidResponse?: boolean
}

const anthropicTypes: ReadonlySet<string> = new Set(ANTHROPIC_API_ERROR_TYPES)

const anthropicByStatus: Readonly<Record<number, AiErrorType>> = {
  400: 'invalid_request_error',
  401: 'authentication_error',
  402: 'billing_error',
  403: 'permission_error',
  404: 'not_found_error',
  413: 'request_too_large',
  429: 'rate_limit_error',
  500: 'api_error',
  504: 'timeout_error',
  529: 'overloaded_error',
}

/**
 * The bounded `error.type` of a failed Anthropic call: the body's own type when Anthropic
 * documents it, else one derived from the HTTP status, else `timeout`/`network`, else `_OTHER`.
 */
export const anthropicErrorType = (facts: FailureFacts): AiErrorType | typeof OTHER => {
  if (facts.apiErrorType && anthropicTypes.has(facts.apiErrorType)) {
    return facts.apiErrorType as AiErrorType
  }
  if (facts.httpStatus !== undefined) {
    const byStatus = anthropicByStatus[facts.httpStatus]
    if (byStatus) return byStatus
    if (facts.httpStatus >= 500 && facts.httpStatus <= 599) return 'api_error'
  }
  return facts.transport ?? OTHER
}

const includes = (codes: readonly number[], code: number | undefined): boolean =>
  code !== undefined && codes.includes(code)

/**
 * The bounded `error.type` of a failed Fyers call: authentication (HTTP 401, codes -8/-15/-16/-17),
 * rate limiting (429, -353/-429), an unknown symbol (-300), an unusable answer, a bad request (other 4xx or a known
 * request code), an upstream error (5xx), a transport failure, or `_OTHER`.
 */
export const fyersErrorType = (facts: FailureFacts): FyersErrorType | typeof OTHER => {
  const { httpStatus: status, fyersCode: code } = facts
  if (facts.transport) return facts.transport
  if (status === 401 || includes(FYERS_AUTH_CODES, code)) return 'authentication_error'
  if (status === 429 || includes(FYERS_RATE_LIMIT_CODES, code)) return 'rate_limit_error'
  if (includes(FYERS_INVALID_SYMBOL_CODES, code)) return 'invalid_symbol'
  if (facts.invalidResponse) return 'invalid_response'
  // A 5xx is Fyers' own failure, whatever code its body carries.
  if (status !== undefined && status >= 500 && status <= 599) return 'api_error'
  if (includes(FYERS_INVALID_REQUEST_CODES, code)) return 'invalid_request_error'
  if (status !== undefined && status >= 400 && status <= 499) return 'invalid_request_error'
  return OTHER
}

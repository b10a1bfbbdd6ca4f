/**
 * Attribute keys and the bounded value sets of every keyline metric. No attribute value may come
 * from user input or a secret: each value goes through one of the normalisers below, which map
 * anything unknown to {@link OTHER}.
 */

/** The value every normaliser uses for an unknown input, as in the OTel semantic conventions. */
export const OTHER = '_OTHER'

/** Attribute keys used by keyline metrics. */
export const ATTR = {
  genAiProviderName: 'gen_ai.provider.name',
  genAiOperationName: 'gen_ai.operation.name',
  genAiRequestModel: 'gen_ai.request.model',
  genAiTokenType: 'gen_ai.token.type',
  errorType: 'error.type',
  fyersErrorCode: 'fyers.error_code',
  httpRequestMethod: 'http.request.method',
  httpResponseStatusCode: 'http.response.status_code',
  serverAddress: 'server.address',
  provider: 'keyline.provider',
  operation: 'keyline.operation',
  outcome: 'outcome',
} as const

/** An attribute key of a keyline metric. */
export type AttributeKey = (typeof ATTR)[keyof typeof ATTR]

/** Providers keyline proxies. */
export const PROVIDERS = ['anthropic', 'fyers'] as const
export type Provider = (typeof PROVIDERS)[number]

/** `gen_ai.operation.name` values of the Anthropic routes. */
export const AI_OPERATIONS = ['chat', 'count_tokens', 'models'] as const
export type AiOperation = (typeof AI_OPERATIONS)[number]

/** `keyline.operation` values of Fyers calls. */
export const FYERS_OPERATIONS = ['quotes'] as const
export type FyersOperation = (typeof FYERS_OPERATIONS)[number]

/**
 * Anthropic model ids that may appear as `gen_ai.request.model`: the `Model` literals of the
 * installed `@anthropic-ai/sdk` plus older ids still served. Anything else becomes `_OTHER`.
 */
export const ANTHROPIC_MODELS = [
  'claude-fable-5-2',
  'claude-mythos-5-2',
  'claude-haiku-5-5',
  'claude-sonnet-5-5',
  'claude-fable-5-1',
  'claude-opus-5-5',
  'claude-mythos-5-1',
  'claude-sonnet-5',
  'claude-fable-5',
  'claude-mythos-5',
  'claude-opus-5',
  'claude-opus-4-8',
  'claude-opus-4-7',
  'claude-mythos-preview',
  'claude-opus-4-6',
  'claude-sonnet-4-6',
  'claude-haiku-4-5',
  'claude-haiku-4-5-20251001',
  'claude-opus-4-5',
  'claude-opus-4-5-20251101',
  'claude-sonnet-4-5',
  'claude-sonnet-4-5-20250929',
  'claude-opus-4-1',
  'claude-opus-4-1-20250805',
  'claude-opus-4-0',
  'claude-opus-4-20250514',
  'claude-sonnet-4-0',
  'claude-sonnet-4-20250514',
  'claude-3-7-sonnet-latest',
  'claude-3-7-sonnet-20250219',
  'claude-3-5-haiku-latest',
  'claude-3-5-haiku-20241022',
  'claude-3-haiku-20240307',
] as const
export type AnthropicModel = (typeof ANTHROPIC_MODELS)[number]

/** Anthropic's own `error.type` values (the `type` of an error body). */
export const ANTHROPIC_API_ERROR_TYPES = [
  'invalid_request_error',
  'authentication_error',
  'billing_error',
  'permission_error',
  'not_found_error',
  'request_too_large',
  'rate_limit_error',
  'api_error',
  'timeout_error',
  'overloaded_error',
] as const

/**
 * `error.type`s that a client's own request causes (a bad body, an unknown model or symbol, too
 * large a request): counted in the failure counters, but they neither extend nor end a streak of
 * upstream failures, so one misbehaving client cannot page the consecutive-failure alerts.
 */
export const CLIENT_ERROR_TYPES: readonly string[] = [
  'invalid_request_error',
  'not_found_error',
  'request_too_large',
  'invalid_symbol',
]

/** Whether a failure's `error.type` is the client's own doing ({@link CLIENT_ERROR_TYPES}). */
export const isClientErrorType = (errorType: string): boolean =>
  CLIENT_ERROR_TYPES.includes(errorType)

/** Failures that never got an answer: the call timed out or the network failed. */
export const TRANSPORT_ERROR_TYPES = ['timeout', 'network'] as const

/** Every `error.type` of `keyline.ai.failures`. */
export const AI_ERROR_TYPES = [...ANTHROPIC_API_ERROR_TYPES, ...TRANSPORT_ERROR_TYPES] as const
export type AiErrorType = (typeof AI_ERROR_TYPES)[number]

/** Every `error.type` of `keyline.fyers.quote.failures`. */
export const FYERS_ERROR_TYPES = [
  'authentication_error',
  'rate_limit_error',
  'invalid_symbol',
  'invalid_request_error',
  'api_error',
  'invalid_response',
  ...TRANSPORT_ERROR_TYPES,
] as const
export type FyersErrorType = (typeof FYERS_ERROR_TYPES)[number]

/** Fyers codes meaning the access token is expired, invalid or not for this app. */
export const FYERS_AUTH_CODES = [-8, -15, -16, -17] as const
/** Fyers codes meaning too many requests. */
export const FYERS_RATE_LIMIT_CODES = [-353, -429] as const
/** Fyers code for an unknown symbol. */
export const FYERS_INVALID_SYMBOL_CODES = [-300] as const
/** Fyers codes for a malformed request: bad parameters, ids or app id. */
export const FYERS_INVALID_REQUEST_CODES = [-50, -51, -53, -99, -352] as const

/** Every Fyers code that may appear as `fyers.error_code`; anything else becomes `_OTHER`. */
export const FYERS_ERROR_CODES = [
  ...FYERS_AUTH_CODES,
  ...FYERS_RATE_LIMIT_CODES,
  ...FYERS_INVALID_SYMBOL_CODES,
  ...FYERS_INVALID_REQUEST_CODES,
] as const

/** Fyers API hosts that may appear as `server.address`. */
export const FYERS_HOSTS = ['api-t1.fyers.in', 'api.fyers.in', 'api-t2.fyers.in'] as const

/** `gen_ai.token.type` values. */
export const TOKEN_TYPES = ['input', 'output'] as const
export type TokenType = (typeof TOKEN_TYPES)[number]

/** Outcomes of a secrets reload: new values, nothing changed, or the reload failed. */
export const RELOAD_OUTCOMES = ['success', 'unchanged', 'failure'] as const
export type ReloadOutcome = (typeof RELOAD_OUTCOMES)[number]

/** Outcomes of a Fyers access-token refresh. */
export const REFRESH_OUTCOMES = ['success', 'failure'] as const
export type RefreshOutcome = (typeof REFRESH_OUTCOMES)[number]

/**
 * Builds a normaliser for a bounded string set: a member is returned as is, anything else
 * (another string, a number, `undefined`) becomes {@link OTHER}.
 */
export const oneOf = <T extends string>(
  allowed: readonly T[]
): ((value: unknown) => T | typeof OTHER) => {
  const set: ReadonlySet<unknown> = new Set(allowed)
  return (value) => (set.has(value) ? (value as T) : OTHER)
}

/** `anthropic`, `fyers` or `_OTHER`. */
export const normaliseProvider: (value: unknown) => Provider | typeof OTHER = oneOf(PROVIDERS)
/** A known `gen_ai.operation.name` or `_OTHER`. */
export const normaliseAiOperation: (value: unknown) => AiOperation | typeof OTHER =
  oneOf(AI_OPERATIONS)
/** A known Fyers operation or `_OTHER`. */
export const normaliseFyersOperation: (value: unknown) => FyersOperation | typeof OTHER =
  oneOf(FYERS_OPERATIONS)
/** A model id from {@link ANTHROPIC_MODELS} or `_OTHER`. */
export const normaliseModel: (value: unknown) => AnthropicModel | typeof OTHER =
  oneOf(ANTHROPIC_MODELS)
/** A known AI `error.type` or `_OTHER`. */
export const normaliseAiErrorType: (value: unknown) => AiErrorType | typeof OTHER =
  oneOf(AI_ERROR_TYPES)
/** A known Fyers `error.type` or `_OTHER`. */
export const normaliseFyersErrorType: (value: unknown) => FyersErrorType | typeof OTHER =
  oneOf(FYERS_ERROR_TYPES)
/** `input`, `output` or `_OTHER`. */
export const normaliseTokenType: (value: unknown) => TokenType | typeof OTHER = oneOf(TOKEN_TYPES)
/** A known reload outcome or `_OTHER`. */
export const normaliseReloadOutcome: (value: unknown) => ReloadOutcome | typeof OTHER =
  oneOf(RELOAD_OUTCOMES)
/** A known refresh outcome or `_OTHER`. */
export const normaliseRefreshOutcome: (value: unknown) => RefreshOutcome | typeof OTHER =
  oneOf(REFRESH_OUTCOMES)
/** A known Fyers host or `_OTHER`. */
export const normaliseFyersHost: (value: unknown) => string = oneOf(FYERS_HOSTS)

const fyersCodes: ReadonlySet<number> = new Set(FYERS_ERROR_CODES)

/** A known Fyers code as a string (`'-15'`), or `_OTHER`. */
export const normaliseFyersCode = (value: unknown): string =>
  typeof value === 'number' && fyersCodes.has(value) ? String(value) : OTHER

/** An HTTP status code 100–599 as a number, or `_OTHER`. */
export const normaliseHttpStatus = (value: unknown): number | typeof OTHER =>
  typeof value === 'number' && Number.isInteger(value) && value >= 100 && value <= 599
    ? value
    : OTHER

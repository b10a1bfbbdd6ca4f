/**
 * Attribute keys and the bounded value sets of every keyline metric. No attribute value may come
 * from user input or a secret: each value goes through one of the normalisers below, which map
 * anything unknown to {@link OTHER}.
 */

import {
  AI_ERROR_TYPES,
  AI_OPERATIONS,
  type AiErrorType,
  type AiOperation,
  ANTHROPIC_CLIENT_ERROR_TYPES,
  ANTHROPIC_MODELS,
  type AnthropicModel,
} from '../catalog/anthropic.ts'
import {
  FYERS_CLIENT_ERROR_TYPES,
  FYERS_ERROR_CODES,
  FYERS_ERROR_TYPES,
  FYERS_HOSTS,
  FYERS_OPERATIONS,
  type FyersErrorType,
} from '../catalog/fyers.ts'
import {
  CLIENT_NAME,
  LIMIT_KINDS,
  type LimitKind,
  STORE_KINDS,
  type StoreKind,
  UNNAMED_CLIENT,
} from '../catalog/keyline.ts'
import { PROVIDER_IDS, type ProviderId } from '../catalog/providers.ts'

// The provider facts the metrics are bounded by, re-exported for the telemetry API.
export {
  AI_ERROR_TYPES,
  AI_OPERATIONS,
  type AiErrorType,
  type AiOperation,
  ANTHROPIC_MODELS,
  type AnthropicModel,
} from '../catalog/anthropic.ts'
export {
  FYERS_ERROR_CODES,
  FYERS_ERROR_TYPES,
  FYERS_HOSTS,
  FYERS_OPERATIONS,
  type FyersErrorType,
  type FyersOperation,
} from '../catalog/fyers.ts'

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
  store: 'keyline.store',
  outcome: 'outcome',
  clientName: 'keyline.client.name',
  limit: 'keyline.limit',
} as const

/** An attribute key of a keyline metric. */
export type AttributeKey = (typeof ATTR)[keyof typeof ATTR]

/**
 * `keyline.client.name`: the name of the client token a request came with. Bounded by the
 * configuration (only names `KEYLINE_CLIENT_TOKENS` gives can appear; see `clientAuth`);
 * anything that is not such a name, or no name at all, is `unnamed`.
 */
export const normaliseClientName = (value: unknown): string =>
  typeof value === 'string' && CLIENT_NAME.test(value) ? value : UNNAMED_CLIENT

/** Providers keyline proxies. */
export const PROVIDERS: readonly ProviderId[] = PROVIDER_IDS
export type Provider = ProviderId

/**
 * `error.type`s that a client's own request causes (a bad body, an unknown model or symbol, too
 * large a request): counted in the failure counters, but they neither extend nor end a streak of
 * upstream failures, so one misbehaving client cannot page the consecutive-failure alerts.
 */
export const CLIENT_ERROR_TYPES: readonly string[] = [
  ...new Set([...ANTHROPIC_CLIENT_ERROR_TYPES, ...FYERS_CLIENT_ERROR_TYPES]),
]

/** Whether a failure's `error.type` is the client's own doing ({@link CLIENT_ERROR_TYPES}). */
export const isClientErrorType = (errorType: string): boolean =>
  CLIENT_ERROR_TYPES.includes(errorType)

/** `gen_ai.token.type` values. */
export const TOKEN_TYPES = ['input', 'output'] as const
export type TokenType = (typeof TOKEN_TYPES)[number]

/** Outcomes of a secrets reload: new values, nothing changed, or the reload failed. */
export const RELOAD_OUTCOMES = ['success', 'unchanged', 'failure'] as const
export type ReloadOutcome = (typeof RELOAD_OUTCOMES)[number]

/** The secure stores keyline fetches from (`aws-sm`, `aws-ssm`, `secrets-store`). */
export { STORE_KINDS, type StoreKind }

/**
 * Outcomes of a store fetch: a value; a failure while the cached value is served (`stale`);
 * a failure with nothing to serve (`failure`: the credential is not configured).
 */
export const STORE_FETCH_OUTCOMES = ['success', 'stale', 'failure'] as const
export type StoreFetchOutcome = (typeof STORE_FETCH_OUTCOMES)[number]

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
/** A model id from {@link ANTHROPIC_MODELS} or `_OTHER`. */
export const normaliseModel: (value: unknown) => AnthropicModel | typeof OTHER =
  oneOf(ANTHROPIC_MODELS)
/** A known AI `error.type` or `_OTHER`. */
export const normaliseAiErrorType: (value: unknown) => AiErrorType | typeof OTHER =
  oneOf(AI_ERROR_TYPES)
/** A known Fyers `error.type` or `_OTHER`. */
export const normaliseFyersErrorType: (value: unknown) => FyersErrorType | typeof OTHER =
  oneOf(FYERS_ERROR_TYPES)
/** A known Fyers `keyline.operation` (`quotes`, `depth`, `place_order`, …) or `_OTHER`. */
export const normaliseFyersOperation: (value: unknown) => string = oneOf(FYERS_OPERATIONS)
/** A known reload outcome or `_OTHER`. */
export const normaliseReloadOutcome: (value: unknown) => ReloadOutcome | typeof OTHER =
  oneOf(RELOAD_OUTCOMES)
/** The quota limits (`rpm`, `tpm`, `rpd`, `tpd`). */
export const LIMITS = Object.keys(LIMIT_KINDS) as LimitKind[]
/** A known quota limit or `_OTHER`. */
export const normaliseLimit: (value: unknown) => LimitKind | typeof OTHER = oneOf(LIMITS)
/** A known store or `_OTHER`. */
export const normaliseStoreKind: (value: unknown) => StoreKind | typeof OTHER = oneOf(STORE_KINDS)
/** A known store fetch outcome or `_OTHER`. */
export const normaliseStoreFetchOutcome: (value: unknown) => StoreFetchOutcome | typeof OTHER =
  oneOf(STORE_FETCH_OUTCOMES)
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

import type { Attributes } from '@opentelemetry/api'
import { FYERS_DEFAULT_HOST } from '../catalog/fyers.ts'
import {
  type AiErrorType,
  type AiOperation,
  ATTR,
  type FyersErrorType,
  isClientErrorType,
  normaliseAiErrorType,
  normaliseAiOperation,
  normaliseClientName,
  normaliseFyersCode,
  normaliseFyersErrorType,
  normaliseFyersHost,
  normaliseFyersOperation,
  normaliseHttpStatus,
  normaliseLimit,
  normaliseModel,
  normaliseProvider,
  normaliseRefreshOutcome,
  normaliseReloadOutcome,
  normaliseStoreFetchOutcome,
  normaliseStoreKind,
  OTHER,
  type Provider,
  type RefreshOutcome,
  type ReloadOutcome,
  type StoreFetchOutcome,
  type StoreKind,
} from './attributes.ts'
import { getInstruments, telemetryState } from './instruments.ts'

/** `'success'`, or the failure's `error.type` (see `anthropicErrorType`/`fyersErrorType`). */
export type Outcome<E extends string> = 'success' | { errorType: E | (string & {}) }

/** One finished call to Anthropic. */
export interface AiCall {
  /** `gen_ai.operation.name`: `chat`, `count_tokens` or `models`; others become `_OTHER`. */
  operation: AiOperation | (string & {})
  /** The requested model id; ids outside the allow-list become `_OTHER`. Omit for `models`. */
  model?: string
  /** Wall time of the call in seconds. */
  durationS: number
  outcome: Outcome<AiErrorType>
  /** Token counts from the answer's `usage`, when it had one. */
  usage?: { input: number; output: number }
  /** The name of the client token the request came with; anything else becomes `unnamed`. */
  client?: string
}

/** One finished Fyers call. */
export interface FyersQuoteCall {
  /** `keyline.operation`: `quotes`, `depth`, `place_order`, … (others become `_OTHER`). @default 'quotes' */
  operation?: string
  /** The HTTP method. @default 'GET' */
  method?: string
  /** Wall time of the HTTP call in seconds. */
  durationS: number
  /** HTTP status of the answer; omit when none arrived (timeout, network). */
  httpStatus?: number
  /** The upstream host; hosts outside the allow-list become `_OTHER`. @default Fyers' default host */
  serverAddress?: string
  outcome: 'success' | { errorType: FyersErrorType | (string & {}); fyersCode?: number }
}

const PROVIDER_ANTHROPIC = 'anthropic'
const PROVIDER_FYERS = 'fyers'
const OPERATION_QUOTES = 'quotes'
const FYERS_METHODS: ReadonlySet<unknown> = new Set(['GET', 'POST', 'PUT', 'PATCH', 'DELETE'])

const isMeasurement = (value: number): boolean => Number.isFinite(value) && value >= 0

/**
 * Records a finished Anthropic call: `keyline.ai.requests`, on failure `keyline.ai.failures`
 * (both with `keyline.client.name`),
 * `gen_ai.client.operation.duration`, `gen_ai.client.token.usage` when usage is given, and the
 * failure streak of (`anthropic`, operation). Never throws for odd input.
 */
export const recordAiCall = (call: AiCall): void => {
  const m = getInstruments()
  const sets = aiAttributeSets(call.operation, call.model, call.client)
  const { base, operation } = sets
  m.aiRequests.add(1, sets.requests)
  let durationAttributes = base
  if (call.outcome === 'success') {
    telemetryState.streaks.success(PROVIDER_ANTHROPIC, operation)
  } else {
    durationAttributes = {
      ...base,
      [ATTR.errorType]: normaliseAiErrorType(call.outcome.errorType),
    }
    m.aiFailures.add(1, { ...durationAttributes, ...sets.client })
    if (!isClientErrorType(String(durationAttributes[ATTR.errorType]))) {
      telemetryState.streaks.failure(PROVIDER_ANTHROPIC, operation)
    }
  }
  if (isMeasurement(call.durationS))
    m.aiOperationDuration.record(call.durationS, durationAttributes)
  if (call.usage) {
    const { input, output } = call.usage
    if (isMeasurement(input)) m.aiTokenUsage.record(input, sets.input)
    if (isMeasurement(output)) m.aiTokenUsage.record(output, sets.output)
  }
}

/** The attribute sets of an Anthropic call, built once per (operation, model, client). */
interface AiAttributeSets {
  readonly operation: string
  readonly base: Attributes
  readonly client: Attributes
  readonly requests: Attributes
  readonly input: Attributes
  readonly output: Attributes
}

/**
 * Attribute sets by raw operation, model and client name. Their values are normalised into
 * bounded sets, but the raw keys are not: each level is bounded and starts afresh when full.
 */
const aiSets = new Map<unknown, Map<unknown, Map<unknown, AiAttributeSets>>>()
const AI_SETS_LIMIT = 256

const levelOf = <K, V>(map: Map<K, V>, key: K, make: () => V): V => {
  let found = map.get(key)
  if (found === undefined) {
    if (map.size >= AI_SETS_LIMIT) map.clear()
    found = make()
    map.set(key, found)
  }
  return found
}

/** The attribute sets of one call: the same objects for every call alike (never mutated). */
const aiAttributeSets = (operation: unknown, model: unknown, client: unknown): AiAttributeSets => {
  const byClient = levelOf(
    levelOf(aiSets, operation, () => new Map()),
    model,
    () => new Map()
  )
  return levelOf(byClient, client, () => {
    const normalised = normaliseAiOperation(operation)
    const base: Attributes = {
      [ATTR.genAiProviderName]: PROVIDER_ANTHROPIC,
      [ATTR.genAiOperationName]: normalised,
      ...(model === undefined ? {} : { [ATTR.genAiRequestModel]: normaliseModel(model) }),
    }
    const clientSet = { [ATTR.clientName]: normaliseClientName(client) }
    return {
      operation: normalised,
      base,
      client: clientSet,
      requests: { ...base, ...clientSet },
      input: { ...base, [ATTR.genAiTokenType]: 'input' },
      output: { ...base, [ATTR.genAiTokenType]: 'output' },
    }
  })
}

/**
 * Records a finished Fyers call: `keyline.fyers.quote.requests` (by `keyline.operation`), on
 * failure `keyline.fyers.quote.failures` (with `fyers.error_code` when Fyers sent one),
 * `http.client.request.duration`, and the failure streak of (`fyers`, operation).
 */
export const recordFyersQuote = (call: FyersQuoteCall): void => {
  const m = getInstruments()
  const operation = normaliseFyersOperation(call.operation ?? OPERATION_QUOTES)
  const requests = { [ATTR.operation]: operation }
  const method = call.method ?? 'GET'
  m.fyersQuoteRequests.add(1, requests)
  const http: Attributes = {
    [ATTR.httpRequestMethod]: FYERS_METHODS.has(method) ? method : OTHER,
    [ATTR.serverAddress]: normaliseFyersHost(call.serverAddress ?? FYERS_DEFAULT_HOST),
    ...(call.httpStatus === undefined
      ? {}
      : { [ATTR.httpResponseStatusCode]: normaliseHttpStatus(call.httpStatus) }),
  }
  if (call.outcome === 'success') {
    telemetryState.streaks.success(PROVIDER_FYERS, operation)
  } else {
    const errorType = normaliseFyersErrorType(call.outcome.errorType)
    const code = call.outcome.fyersCode
    m.fyersQuoteFailures.add(1, {
      ...requests,
      [ATTR.errorType]: errorType,
      ...(code === undefined ? {} : { [ATTR.fyersErrorCode]: normaliseFyersCode(code) }),
    })
    http[ATTR.errorType] = errorType
    if (!isClientErrorType(errorType)) telemetryState.streaks.failure(PROVIDER_FYERS, operation)
  }
  if (isMeasurement(call.durationS)) m.fyersHttpDuration.record(call.durationS, http)
}

const clientSets = new Map<string, Attributes>()
/** `{keyline.client.name}` of a client, built once per name (bounded, started afresh when full). */
const clientSet = (client: string): Attributes => {
  let found = clientSets.get(client)
  if (!found) {
    if (clientSets.size >= AI_SETS_LIMIT) clientSets.clear()
    found = { [ATTR.clientName]: normaliseClientName(client) }
    clientSets.set(client, found)
  }
  return found
}

/**
 * Records one request of a client with a quota (`keyline.client.requests`) and, when a limit
 * refused it, `keyline.client.limited` with that limit.
 */
export const recordClientRequest = (client: string, refusedBy?: string): void => {
  const m = getInstruments()
  const attributes = clientSet(client)
  m.clientRequests.add(1, attributes)
  if (refusedBy !== undefined) {
    m.clientLimited.add(1, { ...attributes, [ATTR.limit]: normaliseLimit(refusedBy) })
  }
}

/** Records tokens charged to a client's token quota (`keyline.client.tokens`). */
export const recordClientTokens = (client: string, tokens: number): void => {
  if (isMeasurement(tokens)) getInstruments().clientTokens.add(tokens, clientSet(client))
}

/** Records a request the quota counter store did not answer in time (`keyline.client.limits.unavailable`). */
export const recordClientLimitsUnavailable = (): void => {
  getInstruments().clientLimitsUnavailable.add(1)
}

/** Records that a provider switched to its next credential (`keyline.key.failovers`). */
export const recordFailover = (provider: Provider | (string & {})): void => {
  getInstruments().keyFailovers.add(1, { [ATTR.provider]: normaliseProvider(provider) })
}

/** Records a secrets reload and its outcome (`keyline.secrets.reloads`). */
export const recordReload = (outcome: ReloadOutcome): void => {
  getInstruments().secretsReloads.add(1, { [ATTR.outcome]: normaliseReloadOutcome(outcome) })
}

/** Records one fetch from a secure store and its outcome (`keyline.secrets.store.fetches`). */
export const recordStoreFetch = (store: StoreKind, outcome: StoreFetchOutcome): void => {
  getInstruments().storeFetches.add(1, {
    [ATTR.store]: normaliseStoreKind(store),
    [ATTR.outcome]: normaliseStoreFetchOutcome(outcome),
  })
}

/** Records a Fyers access-token refresh and its outcome (`keyline.fyers.token.refreshes`). */
export const recordTokenRefresh = (outcome: RefreshOutcome): void => {
  getInstruments().fyersTokenRefreshes.add(1, {
    [ATTR.outcome]: normaliseRefreshOutcome(outcome),
  })
}

/**
 * Sets how long the Fyers refresh token stays valid. The gauge
 * `keyline.fyers.refresh_token.remaining` then counts down on every collection; pass
 * `undefined` to stop reporting it.
 */
export const setRefreshTokenRemaining = (seconds: number | undefined): void => {
  getInstruments()
  telemetryState.refreshTokenExpiresAtMs =
    seconds === undefined || !Number.isFinite(seconds)
      ? undefined
      : telemetryState.now() + seconds * 1000
}

/** Like {@link setRefreshTokenRemaining}, from the token's expiry time. */
export const setRefreshTokenExpiry = (expiresAt: Date | undefined): void => {
  getInstruments()
  const ms = expiresAt?.getTime()
  telemetryState.refreshTokenExpiresAtMs = ms === undefined || Number.isNaN(ms) ? undefined : ms
}

/**
 * Creates keyline's instruments on the current global MeterProvider now, so the gauges and the
 * zero-initialised counters are exported before the first call. Call it right after the SDK is
 * installed; recording functions also do it on first use.
 */
export const registerKeylineMetrics = (): void => {
  getInstruments()
}

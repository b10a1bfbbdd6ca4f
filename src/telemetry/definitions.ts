import { ATTR, type AttributeKey } from './attributes.ts'

/**
 * How a metric is recorded: a monotonic `counter`, an explicit-bucket `histogram`, or an
 * observable `gauge` reported on every collection.
 */
export type MetricKind = 'counter' | 'histogram' | 'gauge'

/** One keyline metric: its OTel name, kind, unit and the attribute keys it may carry. */
export interface MetricDefinition {
  /** The OTel instrument name: a public contract, never renamed. */
  readonly name: string
  readonly kind: MetricKind
  /** UCUM unit, e.g. `s` or `{request}`. */
  readonly unit: string
  readonly description: string
  /** Every attribute key a data point of this metric may carry. */
  readonly attributes: readonly AttributeKey[]
  /** Histogram bucket boundaries, passed as the instrument's advice. */
  readonly buckets?: readonly number[]
}

/** Bucket boundaries the OTel GenAI semantic conventions give for operation durations (s). */
export const GEN_AI_DURATION_BUCKETS = [
  0.01, 0.02, 0.04, 0.08, 0.16, 0.32, 0.64, 1.28, 2.56, 5.12, 10.24, 20.48, 40.96, 81.92,
] as const

/** Bucket boundaries the OTel GenAI semantic conventions give for token counts. */
export const GEN_AI_TOKEN_BUCKETS = [
  1, 4, 16, 64, 256, 1024, 4096, 16384, 65536, 262144, 1048576, 4194304, 16777216, 67108864,
] as const

/** Bucket boundaries the OTel HTTP semantic conventions give for request durations (s). */
export const HTTP_DURATION_BUCKETS = [
  0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.25, 0.5, 0.75, 1, 2.5, 5, 7.5, 10,
] as const

const aiCallAttributes = [
  ATTR.genAiProviderName,
  ATTR.genAiOperationName,
  ATTR.genAiRequestModel,
] as const

/**
 * Every metric keyline records, by key. Code records through these definitions, tests check
 * them against a real exporter, and `scripts/generate-dashboards.ts` builds alerts and panels
 * from them.
 */
export const METRICS = {
  aiRequests: {
    name: 'keyline.ai.requests',
    kind: 'counter',
    unit: '{request}',
    description: 'Calls keyline made to an AI provider, failed ones included.',
    attributes: [...aiCallAttributes, ATTR.clientName],
  },
  aiFailures: {
    name: 'keyline.ai.failures',
    kind: 'counter',
    unit: '{request}',
    description: 'Calls to an AI provider that failed, by error.type.',
    attributes: [...aiCallAttributes, ATTR.errorType, ATTR.clientName],
  },
  fyersQuoteRequests: {
    name: 'keyline.fyers.quote.requests',
    kind: 'counter',
    unit: '{request}',
    description:
      'Fyers API calls keyline made, failed ones included, by keyline.operation (quotes, depth, history, funds, place_order, …).',
    attributes: [ATTR.operation],
  },
  fyersQuoteFailures: {
    name: 'keyline.fyers.quote.failures',
    kind: 'counter',
    unit: '{request}',
    description: 'Fyers API calls that failed, by keyline.operation, error.type and Fyers code.',
    attributes: [ATTR.operation, ATTR.errorType, ATTR.fyersErrorCode],
  },
  consecutiveFailures: {
    name: 'keyline.upstream.consecutive_failures',
    kind: 'gauge',
    unit: '{failure}',
    description: 'Failures in a row per provider and operation; a success resets it to 0.',
    attributes: [ATTR.provider, ATTR.operation],
  },
  keyFailovers: {
    name: 'keyline.key.failovers',
    kind: 'counter',
    unit: '{failover}',
    description: 'Times keyline switched a provider to its next credential.',
    attributes: [ATTR.provider],
  },
  secretsReloads: {
    name: 'keyline.secrets.reloads',
    kind: 'counter',
    unit: '{reload}',
    description: 'Secrets reloads, by outcome.',
    attributes: [ATTR.outcome],
  },
  storeFetches: {
    name: 'keyline.secrets.store.fetches',
    kind: 'counter',
    unit: '{fetch}',
    description:
      'Fetches of secrets from secure stores, by store and outcome (stale: failed, cached value served).',
    attributes: [ATTR.store, ATTR.outcome],
  },
  fyersTokenRefreshes: {
    name: 'keyline.fyers.token.refreshes',
    kind: 'counter',
    unit: '{refresh}',
    description: 'Fyers access-token refreshes, by outcome.',
    attributes: [ATTR.outcome],
  },
  fyersRefreshTokenRemaining: {
    name: 'keyline.fyers.refresh_token.remaining',
    kind: 'gauge',
    unit: 's',
    description: 'Seconds until the Fyers refresh token expires (0 once expired).',
    attributes: [],
  },
  clientRequests: {
    name: 'keyline.client.requests',
    kind: 'counter',
    unit: '{request}',
    description: 'Requests of clients with a quota, refused ones included.',
    attributes: [ATTR.clientName],
  },
  clientTokens: {
    name: 'keyline.client.tokens',
    kind: 'counter',
    unit: '{token}',
    description: 'Tokens charged to client quotas.',
    attributes: [ATTR.clientName],
  },
  clientLimited: {
    name: 'keyline.client.limited',
    kind: 'counter',
    unit: '{request}',
    description: 'Requests refused by a client quota, by limit.',
    attributes: [ATTR.clientName, ATTR.limit],
  },
  clientLimitsUnavailable: {
    name: 'keyline.client.limits.unavailable',
    kind: 'counter',
    unit: '{request}',
    description: 'Quota checks the counter store did not answer in time.',
    attributes: [],
  },
  aiOperationDuration: {
    name: 'gen_ai.client.operation.duration',
    kind: 'histogram',
    unit: 's',
    description: 'GenAI operation duration.',
    attributes: [...aiCallAttributes, ATTR.errorType],
    buckets: GEN_AI_DURATION_BUCKETS,
  },
  aiTokenUsage: {
    name: 'gen_ai.client.token.usage',
    kind: 'histogram',
    unit: '{token}',
    description: 'Number of input and output tokens used.',
    attributes: [...aiCallAttributes, ATTR.genAiTokenType],
    buckets: GEN_AI_TOKEN_BUCKETS,
  },
  fyersHttpDuration: {
    name: 'http.client.request.duration',
    kind: 'histogram',
    unit: 's',
    description: 'Duration of HTTP client requests to Fyers.',
    attributes: [
      ATTR.httpRequestMethod,
      ATTR.serverAddress,
      ATTR.httpResponseStatusCode,
      ATTR.errorType,
    ],
    buckets: HTTP_DURATION_BUCKETS,
  },
} as const satisfies Record<string, MetricDefinition>

/** The key of a keyline metric in {@link METRICS}. */
export type MetricKey = keyof typeof METRICS

/** Metric keys in a stable order. */
export const METRIC_KEYS = Object.keys(METRICS) as MetricKey[]

/** The instrumentation scope keyline's meter uses. */
export const METER_NAME = 'keyline'

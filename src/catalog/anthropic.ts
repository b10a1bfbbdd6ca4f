/**
 * What Anthropic is, as data: its credentials and settings, API version, operations and
 * models, the one table of its error types (used alike by failover, client errors and
 * telemetry), and the headers its wire allows through. Nothing here calls Anthropic: that is
 * `src/providers/anthropic/`.
 */
import type { ProviderDefinition } from './definitions.ts'
import { type FailureFacts, TRANSPORT_ERROR_TYPES } from './outcomes.ts'

// ── Configuration ────────────────────────────────────────────────────────────────────────────

/** Anthropic: the API key (alias `CLAUDE_API_KEY`), its next key and the upstream base URL. */
export const anthropicDefinition = {
  id: 'anthropic',
  name: 'Anthropic',
  credentials: {
    apiKey: {
      env: ['ANTHROPIC_API_KEY', 'CLAUDE_API_KEY'],
      next: 'ANTHROPIC_API_KEY_NEW',
      label: 'API key',
    },
  },
  settings: {
    baseUrl: { env: 'ANTHROPIC_BASE_URL', default: 'https://api.anthropic.com', kind: 'url' },
  },
} as const satisfies ProviderDefinition<'apiKey', 'baseUrl'>

/**
 * How long an Anthropic answer's headers may take, per attempt: a Messages answer that is not
 * streamed comes whole, once the model has written all of it, which takes minutes for a long
 * one; Anthropic's own SDK waits 10 minutes. A `retry.headersTimeoutMs` given to keyline
 * replaces it.
 */
export const ANTHROPIC_HEADERS_TIMEOUT_MS = 600_000

/** The Anthropic API version sent when the client names none (and by the validity probe). */
export const ANTHROPIC_VERSION = '2023-06-01'

/** `gen_ai.operation.name` values of Anthropic calls. */
export const AI_OPERATIONS = ['chat', 'count_tokens', 'batches', 'files', 'models'] as const
export type AiOperation = (typeof AI_OPERATIONS)[number]

/** Whether `path` (with its query) is `prefix` or below it. */
const under = (path: string, prefix: string): boolean =>
  path.startsWith(prefix) &&
  (path.length === prefix.length || '/?'.includes(path[prefix.length] as string))

/**
 * The operation of an Anthropic API path (`/v1/messages` → `chat`); a path keyline knows no
 * operation of (anything else the API serves under `/v1/`) is `_OTHER`.
 */
export const aiOperationOf = (path: string): AiOperation | '_OTHER' =>
  under(path, '/v1/messages/count_tokens')
    ? 'count_tokens'
    : under(path, '/v1/messages/batches')
      ? 'batches'
      : under(path, '/v1/messages')
        ? 'chat'
        : under(path, '/v1/files')
          ? 'files'
          : under(path, '/v1/models')
            ? 'models'
            : '_OTHER'

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

/** The model id the README, the demo and the examples use: a current one, named once here. */
export const EXAMPLE_MODEL: AnthropicModel = 'claude-sonnet-5-5'

// ── Classification ───────────────────────────────────────────────────────────────────────────

/**
 * Anthropic's documented error types: the HTTP status each comes with, and whether the
 * client's own request caused it (such a failure is counted, but neither extends nor ends a
 * streak of upstream failures). `authentication_error` is what fails over to the next key.
 */
const ERRORS = {
  invalid_request_error: { status: 400, client: true },
  authentication_error: { status: 401, client: false },
  billing_error: { status: 402, client: false },
  permission_error: { status: 403, client: false },
  not_found_error: { status: 404, client: true },
  request_too_large: { status: 413, client: true },
  rate_limit_error: { status: 429, client: false },
  api_error: { status: 500, client: false },
  timeout_error: { status: 504, client: false },
  overloaded_error: { status: 529, client: false },
} as const satisfies Record<string, { status: number; client: boolean }>

/** Anthropic's own `error.type` values (the `type` of an error body). */
export const ANTHROPIC_API_ERROR_TYPES = Object.keys(ERRORS) as (keyof typeof ERRORS)[]
/** One of {@link ANTHROPIC_API_ERROR_TYPES}. */
export type AnthropicApiErrorType = (typeof ANTHROPIC_API_ERROR_TYPES)[number]

/**
 * The Anthropic `error.type` keyline's own error answers carry on Anthropic routes, so that a
 * client written for Anthropic (its SDKs) reads them as it reads Anthropic's: an Anthropic type
 * stays, any other keyline type (`provider_not_configured`, `upstream_unreachable`, …) becomes
 * the type Anthropic documents for its status (`api_error` for a 5xx without one, else
 * `invalid_request_error`).
 */
export const anthropicErrorTypeOf = (type: string, status: number): AnthropicApiErrorType => {
  if (type in ERRORS) return type as AnthropicApiErrorType
  const known = ANTHROPIC_API_ERROR_TYPES.find((t) => ERRORS[t].status === status)
  if (known) return known
  return status >= 500 ? 'api_error' : 'invalid_request_error'
}

/** Every `error.type` of a failed Anthropic call (`keyline.ai.failures`). */
export const AI_ERROR_TYPES = [...ANTHROPIC_API_ERROR_TYPES, ...TRANSPORT_ERROR_TYPES] as const
export type AiErrorType = (typeof AI_ERROR_TYPES)[number]

/** Anthropic error types the client's own request causes. */
export const ANTHROPIC_CLIENT_ERROR_TYPES: readonly string[] = ANTHROPIC_API_ERROR_TYPES.filter(
  (type) => ERRORS[type].client
)

const byStatus = new Map<number, AiErrorType>(
  ANTHROPIC_API_ERROR_TYPES.map((type) => [ERRORS[type].status, type])
)
const apiTypes: ReadonlySet<string> = new Set(ANTHROPIC_API_ERROR_TYPES)

/**
 * The bounded `error.type` of a failed Anthropic call: the body's own type when Anthropic
 * documents it, else one derived from the HTTP status, else `timeout`/`network`, else `_OTHER`.
 */
export const anthropicErrorType = (facts: FailureFacts): AiErrorType | '_OTHER' => {
  if (facts.apiErrorType && apiTypes.has(facts.apiErrorType)) {
    return facts.apiErrorType as AiErrorType
  }
  if (facts.httpStatus !== undefined) {
    const known = byStatus.get(facts.httpStatus)
    if (known) return known
    if (facts.httpStatus >= 500 && facts.httpStatus <= 599) return 'api_error'
  }
  return facts.transport ?? '_OTHER'
}

/** Whether an Anthropic answer rejected the key: what fails over to the next one. */
export const anthropicRejectsKey = (status: number): boolean =>
  status === ERRORS.authentication_error.status

// ── Wire format ──────────────────────────────────────────────────────────────────────────────

/** Client headers that may reach the Anthropic API; everything else (credentials, cookies, hop-by-hop) stays behind. */
export const ANTHROPIC_REQUEST_HEADERS = [
  'anthropic-version',
  'anthropic-beta',
  'anthropic-workspace-id',
  'anthropic-user-profile-id',
  'accept',
]

/** Upstream response headers worth relaying to the client. */
export const ANTHROPIC_RELAYED_HEADERS: ReadonlySet<string> = new Set([
  'content-type',
  'content-disposition',
  'request-id',
  'retry-after',
  'retry-after-ms',
  'cache-control',
  'x-should-retry',
])
export const ANTHROPIC_RELAYED_PREFIX = 'anthropic-ratelimit-'

/** Anthropic's error body: `{"type":"error","error":{"type","message"},"request_id"}`. */
export interface AnthropicErrorBody {
  type: 'error'
  error: { type: string; message: string }
  request_id?: string
}

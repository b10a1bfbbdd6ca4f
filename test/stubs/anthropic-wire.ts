import type {
  Message,
  MessageDeltaUsage,
  RawMessageStreamEvent,
  Usage,
} from '@anthropic-ai/sdk/resources/messages'
import type { ModelInfo } from '@anthropic-ai/sdk/resources/models'
import type { SseEvent } from './sse.ts'

const ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789'

/** `prefix` + 24 random base62 characters, like Anthropic's `msg_…` and `req_…` ids. */
export const randomId = (prefix: string): string => {
  const bytes = crypto.getRandomValues(new Uint8Array(24))
  return prefix + Array.from(bytes, (b) => ALPHABET[b % ALPHABET.length]).join('')
}

/** The models `GET /v1/models` lists, newest first. */
export const STUB_MODELS: readonly ModelInfo[] = [
  ['claude-opus-5-5', 'Claude Opus 5.5', '2026-09-01T00:00:00Z', 'opus'],
  ['claude-sonnet-5-5', 'Claude Sonnet 5.5', '2026-09-01T00:00:00Z', 'sonnet'],
  ['claude-haiku-5-5', 'Claude Haiku 5.5', '2026-09-01T00:00:00Z', 'haiku'],
  ['claude-haiku-4-5-20251001', 'Claude Haiku 4.5', '2025-10-15T00:00:00Z', 'haiku'],
].map(([id, display_name, created_at, line]) => ({
  type: 'model',
  id: id as string,
  display_name: display_name as string,
  created_at: created_at as string,
  capabilities: null,
  deprecated_at: null,
  lifecycle: 'active',
  line: line as ModelInfo['line'],
  max_input_tokens: 200_000,
  max_tokens: 64_000,
  retires_at: null,
}))

/** A rough token count: one per 4 characters, at least 1. */
export const estimateTokens = (text: string): number => Math.max(1, Math.ceil(text.length / 4))

/** Splits the reply into the chunks sent as `text_delta`s (words with their trailing space). */
export const replyChunks = (text: string): string[] => text.match(/\S+\s*|\s+/g) ?? [text]

const usage = (inputTokens: number, outputTokens: number): Usage => ({
  input_tokens: inputTokens,
  output_tokens: outputTokens,
  cache_creation_input_tokens: 0,
  cache_read_input_tokens: 0,
  cache_creation: { ephemeral_5m_input_tokens: 0, ephemeral_1h_input_tokens: 0 },
  inference_geo: null,
  output_tokens_details: null,
  server_tool_use: null,
  service_tier: 'standard',
  speed: null,
})

/** What a reply is built from. */
export interface ReplySpec {
  model: string
  text: string
  inputTokens: number
}

/** The non-streaming `Message` for a reply. */
export const buildMessage = (spec: ReplySpec): Message => ({
  id: randomId('msg_01'),
  type: 'message',
  role: 'assistant',
  model: spec.model,
  content: [{ type: 'text', text: spec.text, citations: null }],
  stop_reason: 'end_turn',
  stop_sequence: null,
  stop_details: null,
  container: null,
  diagnostics: null,
  usage: usage(spec.inputTokens, replyChunks(spec.text).length),
})

/**
 * The SSE events of a streamed reply, in the real order: `message_start`,
 * `content_block_start`, `ping`, one `content_block_delta` per chunk, `content_block_stop`,
 * `message_delta` (stop reason, output tokens), `message_stop`.
 */
export const buildStreamEvents = (spec: ReplySpec): SseEvent[] => {
  const chunks = replyChunks(spec.text)
  const start: Message = {
    ...buildMessage(spec),
    content: [],
    stop_reason: null,
    usage: usage(spec.inputTokens, 1),
  }
  const deltaUsage: MessageDeltaUsage = {
    input_tokens: spec.inputTokens,
    output_tokens: chunks.length,
    cache_creation_input_tokens: 0,
    cache_read_input_tokens: 0,
    output_tokens_details: null,
    server_tool_use: null,
  }
  const events: (RawMessageStreamEvent | { type: 'ping' })[] = [
    { type: 'message_start', message: start },
    {
      type: 'content_block_start',
      index: 0,
      content_block: { type: 'text', text: '', citations: null },
    },
    { type: 'ping' },
    ...chunks.map(
      (text): RawMessageStreamEvent => ({
        type: 'content_block_delta',
        index: 0,
        delta: { type: 'text_delta', text },
      })
    ),
    { type: 'content_block_stop', index: 0 },
    {
      type: 'message_delta',
      delta: { stop_reason: 'end_turn', stop_sequence: null, stop_details: null, container: null },
      usage: deltaUsage,
    },
    { type: 'message_stop' },
  ]
  return events.map((data) => ({ event: data.type, data }))
}

/** Anthropic's `error.type` for an HTTP status. */
export const errorTypeFor = (status: number): string =>
  ({
    400: 'invalid_request_error',
    401: 'authentication_error',
    402: 'billing_error',
    403: 'permission_error',
    404: 'not_found_error',
    413: 'request_too_large',
    429: 'rate_limit_error',
    504: 'timeout_error',
    529: 'overloaded_error',
  })[status] ?? 'api_error'

/** A default message for an error type. */
export const errorMessageFor = (type: string): string =>
  ({
    authentication_error: 'invalid x-api-key',
    rate_limit_error: 'Number of request tokens has exceeded your per-minute rate limit',
    overloaded_error: 'Overloaded',
    api_error: 'Internal server error',
    permission_error: 'Your API key does not have permission to use the specified resource.',
  })[type] ?? type.replaceAll('_', ' ')

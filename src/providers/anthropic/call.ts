/**
 * Everything keyline knows about Anthropic: its credentials and settings, the headers it
 * accepts and answers with, how its answers are classified, the cheap call that proves a key
 * works, and the one upstream call with failover that the proxy routes and `c.var.anthropic`
 * both take. (The `@anthropic-ai/sdk` client itself is built in `anthropic-sdk.ts`, so the
 * proxy Worker never bundles the SDK.)
 */
import {
  ANTHROPIC_RELAYED_HEADERS,
  ANTHROPIC_RELAYED_PREFIX,
  ANTHROPIC_REQUEST_HEADERS,
  ANTHROPIC_VERSION,
  type AnthropicErrorBody,
  aiOperationOf,
  anthropicRejectsKey,
} from '../../catalog/anthropic.ts'
import { type ProbeVerdict, type TokenUsage, verdictOfStatus } from '../../catalog/outcomes.ts'
import { KeylineError } from '../../errors/keyline-error.ts'
import { ProviderNotConfiguredError } from '../../errors/provider-not-configured.ts'
import { headerValue } from '../../redact/header-value.ts'
import type { BodyFilter, Redactor } from '../../redact/redactor.ts'
import type { ProviderSnapshot } from '../../secrets/registry.ts'
import type { Secret } from '../../secrets/secret.ts'
import { UpstreamError, undecodedCoding, upstreamFetch } from '../../upstream/fetch.ts'
import { REPLAY_LIMIT_BYTES, ReplayableBody } from '../../upstream/replayable-body.ts'
import { concatChunks, decodeUtf8, guardStream, readBody } from '../../upstream/stream.ts'
import { type CallDeps, type CallScope, traced, transportFacts, withFailover } from '../call.ts'

/** Whether a comma-separated header value (lower-cased) lists `token`. */
const listsToken = (list: string, token: string): boolean =>
  list.split(',').some((item) => item.trim() === token)

/**
 * Builds the headers of an Anthropic request from an allow-list of the client's headers plus
 * the key and the body's `contentType` (a multipart upload's carries its boundary): the
 * client's `authorization`, `x-api-key`, `cookie` and hop-by-hop headers never reach the
 * upstream.
 */
export const anthropicRequestHeaders = (
  client: Headers,
  apiKey: string,
  contentType: string | undefined
): Record<string, string> => {
  const headers: Record<string, string> = {}
  // Headers the client names in `Connection` are hop-by-hop: they stop at keyline.
  const hopByHop = client.get('connection')?.toLowerCase()
  for (const name of ANTHROPIC_REQUEST_HEADERS) {
    const value = client.get(name)
    if (value && !(hopByHop && listsToken(hopByHop, name))) headers[name] = value
  }
  headers['anthropic-version'] ??= ANTHROPIC_VERSION
  if (contentType) headers['content-type'] = contentType
  headers['x-api-key'] = apiKey
  return headers
}

/**
 * The upstream response headers a client may see, from an allow-list, each value redacted (an
 * upstream may echo a credential anywhere, its header names included: a name that holds one is
 * dropped); encodings and lengths are recomputed.
 */
export const relayedResponseHeaders = (
  upstream: Headers,
  redactor: Redactor
): Record<string, string> => {
  const headers: Record<string, string> = {}
  for (const [name, value] of upstream) {
    if (ANTHROPIC_RELAYED_HEADERS.has(name)) {
      headers[name] = headerValue(redactor.redactString(value))
    } else if (name.startsWith(ANTHROPIC_RELAYED_PREFIX)) {
      // A name is relayed only as it is: one that holds a secret (redaction changes it) is dropped.
      if (redactor.redactString(name) === name) {
        headers[name] = headerValue(redactor.redactString(value))
      }
    }
  }
  return headers
}

const parseJson = (text: string): unknown => {
  try {
    return JSON.parse(text) as unknown
  } catch {
    return undefined
  }
}

/** The 502 for an upstream answer that is not what Anthropic sends (HTML, malformed JSON). */
const malformed = (status: number): KeylineError =>
  new KeylineError(
    502,
    'upstream_malformed',
    `Anthropic answered HTTP ${status} with a body keyline cannot read`,
    { details: { provider: 'anthropic', upstream_status: status } }
  )

/**
 * Reads an upstream error body as Anthropic's error body, keeping only its type, message and
 * request id; `undefined` when it is not one.
 */
const readAnthropicError = (text: string): AnthropicErrorBody | undefined => {
  const body = parseJson(text) as { error?: unknown; request_id?: unknown } | undefined
  const error = body && typeof body === 'object' ? (body.error as Record<string, unknown>) : null
  if (!error || typeof error !== 'object') return undefined
  if (typeof error.type !== 'string' || typeof error.message !== 'string') return undefined
  const relayed: AnthropicErrorBody = {
    type: 'error',
    error: { type: error.type, message: error.message },
  }
  if (typeof body?.request_id === 'string') relayed.request_id = body.request_id
  return relayed
}

const addUsage = (usage: TokenUsage, raw: unknown): void => {
  if (!raw || typeof raw !== 'object') return
  const u = raw as Record<string, unknown>
  if (typeof u.input_tokens === 'number') usage.input = Math.max(usage.input, u.input_tokens)
  if (typeof u.output_tokens === 'number') usage.output = Math.max(usage.output, u.output_tokens)
}

/** Reads `usage` from a non-streamed Messages response body. */
export const usageOfMessage = (body: unknown): TokenUsage | undefined => {
  if (!body || typeof body !== 'object' || !('usage' in body)) return undefined
  const usage = { input: 0, output: 0 }
  addUsage(usage, (body as { usage: unknown }).usage)
  return usage
}

/** The UTF-8 of `"usage"`, what a line that carries usage holds. */
const USAGE = new TextEncoder().encode('"usage"')
const NEWLINE = 0x0a
/** The longest line the usage tracker reads (a longer one carries no usage). */
export const HELD_LINE_BYTES = 1_000_000

/** Where `"usage"` starts in `bytes` at or after `from`, else -1. */
const indexOfUsage = (bytes: Uint8Array, from: number): number => {
  for (let at = bytes.indexOf(0x75, from + 1); at !== -1; at = bytes.indexOf(0x75, at + 1)) {
    let k = 0
    while (k < USAGE.length && bytes[at - 1 + k] === USAGE[k]) k++
    if (k === USAGE.length) return at - 1
  }
  return -1
}

/**
 * Follows a Messages SSE stream as it passes and collects usage from `message_start` (input
 * tokens) and `message_delta` (output tokens), without changing a byte of it. It reads the
 * bytes as they came: only a line that holds `"usage"` is decoded and parsed.
 */
export class SseUsageTracker {
  readonly usage: TokenUsage = { input: 0, output: 0 }
  /** The unfinished last line of the chunks so far. */
  #pending: Uint8Array | undefined
  /** Whether the unfinished last line is longer than {@link HELD_LINE_BYTES}: it is skipped. */
  #skipping = false
  #seen = false

  /**
   * Feeds one chunk of the stream. A line longer than {@link HELD_LINE_BYTES} is read for no
   * usage, wherever the chunks are cut; the unfinished line is joined only with the next chunk's
   * first line, not with the whole chunk.
   */
  push(chunk: Uint8Array): void {
    let from = 0
    const pending = this.#pending
    if (pending || this.#skipping) {
      const end = chunk.indexOf(NEWLINE)
      const size = (pending?.length ?? 0) + (end === -1 ? chunk.length : end + 1)
      this.#skipping ||= size > HELD_LINE_BYTES + 1
      const line = this.#skipping
        ? undefined
        : concatChunks(
            [pending as Uint8Array, end === -1 ? chunk : chunk.subarray(0, end + 1)],
            size
          )
      if (end === -1) {
        this.#pending = line
        return
      }
      // The line it finishes, newline and all, read as a chunk of its own.
      this.#lines(line ?? chunk.subarray(0, 0), 0)
      from = end + 1
    }
    this.#lines(chunk, from)
  }

  /** Reads the lines of `bytes` from `from` on, and holds its unfinished last line. */
  #lines(bytes: Uint8Array, from: number): void {
    const last = bytes.lastIndexOf(NEWLINE)
    for (let at = indexOfUsage(bytes, from); at !== -1 && at < last; ) {
      const start = Math.max(from, bytes.lastIndexOf(NEWLINE, at) + 1)
      const end = bytes.indexOf(NEWLINE, at)
      if (end - start <= HELD_LINE_BYTES) this.#line(decodeUtf8(bytes.subarray(start, end)))
      at = indexOfUsage(bytes, end)
    }
    const tail = Math.max(last + 1, from)
    this.#skipping = bytes.length - tail > HELD_LINE_BYTES
    this.#pending = tail === bytes.length || this.#skipping ? undefined : bytes.slice(tail)
  }

  #line(line: string): void {
    if (!line.startsWith('data:')) return
    const event = parseJson(line.slice(5).trim()) as
      | { type?: string; message?: { usage?: unknown }; usage?: unknown }
      | undefined
    if (!event) return // a partial or foreign line: usage is best effort
    if (event.type === 'message_start') addUsage(this.usage, event.message?.usage)
    if (event.type === 'message_delta') addUsage(this.usage, event.usage)
    this.#seen = true
  }

  /** The usage seen, or `undefined` when the stream carried none. */
  result(): TokenUsage | undefined {
    return this.#seen ? this.usage : undefined
  }
}

/** `filter`, with every chunk that comes in read by `usage` first. */
const trackingUsage = (filter: BodyFilter, usage: SseUsageTracker): BodyFilter => ({
  push(chunk) {
    usage.push(chunk)
    return filter.push(chunk)
  },
  end: () => filter.end(),
})

const sseError = (type: string, message: string): Uint8Array =>
  new TextEncoder().encode(
    `event: error\ndata: ${JSON.stringify({ type: 'error', error: { type, message } })}\n\n`
  )

// ── Validity probe ───────────────────────────────────────────────────────────────────────────

/** `GET {baseUrl}/v1/models` with `key`, the cheap call that proves a key works: valid iff 200. */
export const probeAnthropic = async (
  snapshot: ProviderSnapshot<'anthropic'>,
  key: Secret,
  doFetch: typeof fetch,
  signal: AbortSignal
): Promise<ProbeVerdict> => {
  const response = await doFetch(`${snapshot.settings.baseUrl}/v1/models`, {
    method: 'GET',
    headers: {
      'x-api-key': key.reveal(),
      'anthropic-version': ANTHROPIC_VERSION,
      accept: 'application/json',
    },
    redirect: 'manual',
    signal,
  })
  await response.body?.cancel().catch(() => {})
  return verdictOfStatus(response.status)
}

// ── The upstream call ────────────────────────────────────────────────────────────────────────

/** One call to the Anthropic API. */
export interface AnthropicRequest {
  /** The API path with its query, e.g. `/v1/messages` or `/v1/models?limit=5`. */
  readonly path: string
  readonly method: string
  /**
   * The request body, sent unchanged: text or bytes (sent again on a retry or failover), or
   * the client's stream, streamed through as it comes (sent again only while it is at most
   * {@link REPLAY_LIMIT_BYTES}: see {@link ReplayableBody}).
   */
  readonly body?: string | Uint8Array<ArrayBuffer> | ReadableStream<Uint8Array>
  /** The body's content type. @default `application/json` for a text or bytes body */
  readonly contentType?: string
  /** The requested model, for metrics. */
  readonly model?: string
  /** The client's headers: only the allow-listed Anthropic ones are forwarded. */
  readonly headers: Headers
  /**
   * The origin the client reached keyline at (`https://keyline.example`): URLs of the
   * upstream in a message batch (its `results_url`) are rewritten to it, so the SDK fetches
   * the results through keyline too.
   */
  readonly publicOrigin?: string
}

type Snapshot = ProviderSnapshot<'anthropic'>

/** What keyline answers the client with: a body (streamed or whole), its status and headers. */
export interface Answer {
  readonly body: ReadableStream<Uint8Array> | Uint8Array<ArrayBuffer> | string
  readonly status: number
  readonly headers: Record<string, string>
}

/** Whether a path is a download: a file's content or a batch's JSONL results, streamed whatever their type. */
const isDownload = (path: string): boolean => /\/(?:content|results)(?:\?|$)/.test(path)

/** Whether an answer's content type is JSON (or absent, as an empty answer's is). */
const isJson = (contentType: string | undefined): boolean =>
  contentType === undefined || /^application\/(?:[\w.+-]*\+)?json\b/i.test(contentType)

/**
 * Whether an answer is relayed as a stream (SSE, a file's content, a batch's JSONL results, a
 * non-JSON answer of a passthrough route) rather than read whole: Messages, token counts and
 * models answer JSON or SSE; errors are read whole.
 */
const relayedAsStream = (operation: string, path: string, upstream: Response): boolean => {
  // A body still encoded is read whole, as no stream: unreadable, it becomes a 502.
  if (!upstream.ok || undecodedCoding(upstream.headers)) return false
  const type = upstream.headers.get('content-type') ?? undefined
  const sse = type?.startsWith('text/event-stream') === true
  const streams =
    sse || !(operation === 'chat' || operation === 'count_tokens' || operation === 'models')
  return streams && (!isJson(type) || isDownload(path))
}

/**
 * A message batch names its results by an absolute URL of the upstream (`results_url`): it is
 * rewritten to keyline's own origin, so a client fetches the results through keyline.
 */
const rewriteUpstreamUrls = (text: string, baseUrl: string, origin: string | undefined): string => {
  if (!origin || !text.includes(baseUrl)) return text
  const from = JSON.stringify(`${baseUrl}/v1/`).slice(1, -1)
  return text.replaceAll(from, JSON.stringify(`${origin}/v1/`).slice(1, -1))
}

/**
 * Calls Anthropic with the current key, failing over to the next one on a 401, and answers the
 * client: a streamed answer (SSE, a file's content, a batch's JSONL results) relayed chunk by
 * chunk, a JSON answer relayed as it came, both with any secret the upstream echoed replaced
 * by its fingerprint; an Anthropic error relayed with its status, type, message and
 * `request-id` (redacted); an answer that is not Anthropic's a 502 `upstream_malformed`; no
 * answer at all a 502/504. A streamed request body (an upload) is streamed through; it is
 * retried, or sent again with the next key, only while it is at most
 * {@link REPLAY_LIMIT_BYTES} (beyond, the first answer is relayed as it is). Every call is
 * reported exactly once, when it ends (for a stream: when the stream ends).
 */
export const callAnthropic = async (
  deps: CallDeps,
  scope: CallScope,
  snapshot: Snapshot,
  request: AnthropicRequest
): Promise<Answer> => {
  const current = snapshot.credentials.apiKey.current
  if (!snapshot.configured || !current) {
    throw new ProviderNotConfiguredError('anthropic', snapshot.issues)
  }
  const policy = deps.policies.anthropic
  const { signal } = scope
  const operation = aiOperationOf(request.path)
  const reported = {
    provider: 'anthropic',
    operation,
    model: request.model,
    client: scope.client,
  } as const
  const { baseUrl } = snapshot.settings
  return traced(deps, { ...reported, baseUrl }, async (trace) => {
    const url = `${baseUrl}${request.path}`
    const given = request.body
    const body = given instanceof ReadableStream ? new ReplayableBody(given) : given
    const contentType =
      request.contentType ?? (given === undefined ? undefined : 'application/json')
    const whole = (response: Response): boolean =>
      !relayedAsStream(operation, request.path, response)
    const result = await withFailover(deps, scope, {
      provider: 'anthropic',
      credential: 'apiKey',
      current,
      staged: snapshot.credentials.apiKey.next,
      attempt: (key) =>
        upstreamFetch(
          {
            url,
            method: request.method,
            headers: anthropicRequestHeaders(request.headers, key.reveal(), contentType),
            body,
          },
          // An answer relayed whole is read whole here, so one that breaks off is retried.
          { policy, signal, fetch: deps.fetch, whole }
        ),
      rejected: (response) =>
        anthropicRejectsKey(response.status) &&
        !(body instanceof ReplayableBody && !body.replayable),
      // An answer read whole (`bodyUsed`) holds nothing more to let go of.
      discard: (response) => (response.bodyUsed ? undefined : response.body?.cancel()),
    })
    const upstream = result.outcome
    const redactor = scope.redactor()
    const headers = relayedResponseHeaders(upstream.headers, redactor)
    headers['keyline-key-slot'] = result.slot
    const { status } = upstream
    const type = headers['content-type']
    const sse = type?.startsWith('text/event-stream') === true
    if (upstream.body && !whole(upstream)) {
      const usage = sse ? new SseUsageTracker() : undefined
      const report = trace.later()
      // Every relayed byte passes the redactor, the stream staying a stream (bytes with no
      // secret in them pass unchanged); usage is read from the SSE lines it lets through.
      const stream = guardStream(upstream.body, {
        idleTimeoutMs: policy.idleTimeoutMs,
        signal,
        filter: usage ? trackingUsage(redactor.bodyFilter(), usage) : redactor.bodyFilter(),
        failureTail: sse
          ? (error) =>
              error.kind === 'timeout'
                ? sseError('timeout_error', 'The upstream went silent in the middle of the stream')
                : sseError('api_error', 'The upstream closed the stream before it ended')
          : undefined,
        onEnd: (why) => {
          if (why instanceof UpstreamError) return report({ ok: false, facts: transportFacts(why) })
          const used = usage?.result()
          if (used) scope.onUsage?.(used)
          report({ ok: true, usage: used })
        },
      })
      return { body: stream, status, headers }
    }
    const { bytes, text } = await readBody(upstream, policy.idleTimeoutMs, signal)
    if (upstream.ok) {
      const parsed = text === '' ? null : parseJson(text)
      if (parsed === undefined) {
        trace.end = { ok: false, facts: { httpStatus: status, invalidResponse: true } }
        throw malformed(status)
      }
      const used = usageOfMessage(parsed)
      if (used) scope.onUsage?.(used)
      trace.end = { ok: true, usage: used }
      return {
        // The bytes as they came when they hold no secret: no encode of the text again.
        body:
          operation === 'batches'
            ? rewriteUpstreamUrls(redactor.redactBody(text), baseUrl, request.publicOrigin)
            : redactor.redactBodyBytes(bytes, text),
        status,
        headers,
      }
    }
    const relayed = readAnthropicError(text)
    trace.end = { ok: false, facts: { httpStatus: status, apiErrorType: relayed?.error.type } }
    if (!relayed) throw malformed(status)
    const safe = redactor.redact(relayed) as unknown as AnthropicErrorBody
    headers['content-type'] = 'application/json'
    return { body: JSON.stringify(safe), status, headers }
  })
}

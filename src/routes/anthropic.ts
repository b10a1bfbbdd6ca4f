import type { Context, Hono } from 'hono'
import type { EnvReader } from '../env.ts'
import { KeylineError } from '../errors/keyline-error.ts'
import { honoApp } from '../hono-app.ts'
import { callScope, type SecretsVariables } from '../middleware/secrets.ts'
import { type AnthropicRequest, callAnthropic } from '../providers/anthropic/call.ts'
import type { CallDeps } from '../providers/call.ts'
import { concatChunks, decodeUtf8 } from '../upstream/stream.ts'
import { limitedBody, maxUploadBytes, uploadTooLarge } from '../upstream/upload-limit.ts'

/** Options of {@link anthropicRoutes}. */
export interface AnthropicRoutesOptions {
  /** The provider call's dependencies, shared with the rest of the app. */
  readonly deps: CallDeps
  /** How the request's environment is read. */
  readonly env: EnvReader
  /**
   * Largest request body accepted by `POST /v1/messages`, in bytes.
   * @default 1048576
   */
  readonly maxBodyBytes?: number
}

type Env = { Variables: SecretsVariables }

/** One thing wrong with a request body: where (a dotted path, `''` for the body) and what. */
export interface BodyIssue {
  readonly path: string
  readonly message: string
}

/** Checks a parsed JSON body: the body as `T`, or every issue found. */
export type BodyCheck<T> = (
  value: unknown
) => { readonly body: T } | { readonly issues: BodyIssue[] }

const isObject = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value)

/** Anthropic's words for a field the body lacks. */
const required = (path: string): BodyIssue => ({ path, message: `${path}: Field required` })

const checkModel = (value: unknown, issues: BodyIssue[]): void => {
  if (value === undefined) issues.push(required('model'))
  else if (typeof value !== 'string')
    issues.push({ path: 'model', message: 'model must be a string' })
  else if (value === '') issues.push({ path: 'model', message: 'model must not be empty' })
}

const checkMessages = (value: unknown, issues: BodyIssue[]): void => {
  if (value === undefined) {
    issues.push(required('messages'))
    return
  }
  if (!Array.isArray(value)) {
    issues.push({ path: 'messages', message: 'messages must be an array' })
    return
  }
  if (value.length === 0) issues.push({ path: 'messages', message: 'messages must not be empty' })
  for (const [i, message] of value.entries()) {
    if (!isObject(message)) {
      issues.push({ path: `messages.${i}`, message: 'each message must be an object' })
      continue
    }
    if (message.role !== 'user' && message.role !== 'assistant') {
      issues.push({ path: `messages.${i}.role`, message: 'role must be "user" or "assistant"' })
    }
    if (typeof message.content !== 'string' && !Array.isArray(message.content)) {
      issues.push({
        path: `messages.${i}.content`,
        message: 'content must be a string or an array of content blocks',
      })
    }
  }
}

/** Runs `checks` on an object body; anything else is one issue. Unknown fields pass through. */
const objectBody =
  <T>(checks: (body: Record<string, unknown>, issues: BodyIssue[]) => void): BodyCheck<T> =>
  (value) => {
    if (!isObject(value))
      return { issues: [{ path: '', message: 'the body must be a JSON object' }] }
    const issues: BodyIssue[] = []
    checks(value, issues)
    return issues.length > 0 ? { issues } : { body: value as T }
  }

/** A validated Messages request body (unknown fields pass through untouched). */
export interface MessagesBody {
  readonly model: string
  readonly max_tokens: number
  readonly messages: readonly { readonly role: 'user' | 'assistant'; readonly content: unknown }[]
  readonly stream?: boolean
  readonly [field: string]: unknown
}

/**
 * The basic shape of `POST /v1/messages`: `model`, `max_tokens`, `messages`, optional
 * `stream`. Unknown fields pass through untouched, so new API features keep working.
 */
export const messagesBody: BodyCheck<MessagesBody> = objectBody((body, issues) => {
  checkModel(body.model, issues)
  const max = body.max_tokens
  if (max === undefined) {
    issues.push(required('max_tokens'))
  } else if (typeof max !== 'number' || !Number.isSafeInteger(max)) {
    issues.push({ path: 'max_tokens', message: 'max_tokens must be an integer' })
  } else if (max <= 0) {
    issues.push({ path: 'max_tokens', message: 'max_tokens must be positive' })
  }
  checkMessages(body.messages, issues)
  if (body.stream !== undefined && typeof body.stream !== 'boolean') {
    issues.push({ path: 'stream', message: 'stream must be a boolean' })
  }
})

/** The basic shape of `POST /v1/messages/count_tokens`: `model` and `messages`, the rest passing through. */
export const countTokensBody: BodyCheck<Pick<MessagesBody, 'model' | 'messages'>> = objectBody(
  (body, issues) => {
    checkModel(body.model, issues)
    checkMessages(body.messages, issues)
  }
)

const invalid = (message: string, issues?: readonly BodyIssue[]): KeylineError =>
  new KeylineError(400, 'invalid_request_error', message, issues ? { details: { issues } } : {})

/**
 * The request body's bytes, at most `maxBytes` of them, or a 413 `request_too_large`: kept as
 * bytes, so they go upstream exactly as they came (not decoded and encoded again).
 */
export const readLimited = async (
  request: Request,
  maxBytes: number
): Promise<Uint8Array<ArrayBuffer>> => {
  const tooLarge = () =>
    new KeylineError(413, 'request_too_large', `The request body is larger than ${maxBytes} bytes`)
  const length = request.headers.get('content-length')
  if (length !== null && !request.headers.has('transfer-encoding')) {
    if (Number(length) > maxBytes) throw tooLarge()
    return new Uint8Array(await request.arrayBuffer())
  }
  const reader = request.body?.getReader()
  if (!reader) return new Uint8Array(0)
  const chunks: Uint8Array[] = []
  let size = 0
  for (;;) {
    const { done, value } = await reader.read()
    if (done) break
    size += value.byteLength
    if (size > maxBytes) {
      reader.cancel().catch(() => {})
      throw tooLarge()
    }
    chunks.push(value)
  }
  return concatChunks(chunks, size)
}

/**
 * Reads a JSON body of at most `maxBytes` (a larger one is a 413 `request_too_large`, refused
 * by its `content-length` before a byte is read, or as soon as the stream passes the limit),
 * parses it and checks it with `check`: malformed JSON, or a body that is not what the
 * check expects, is a 400 `invalid_request_error` whose `issues` name each bad field (paths and
 * messages, never values). Returns the bytes (sent upstream
 * unchanged) and the checked body.
 */
const readJsonBody = async <T>(
  request: Request,
  check: BodyCheck<T>,
  maxBytes: number
): Promise<{ bytes: Uint8Array<ArrayBuffer>; body: T }> => {
  const bytes = await readLimited(request, maxBytes)
  let value: unknown
  try {
    value = JSON.parse(decodeUtf8(bytes))
  } catch {
    throw invalid('Malformed JSON in request body')
  }
  const result = check(value)
  if ('issues' in result)
    throw invalid(result.issues.map((issue) => issue.message).join('; '), result.issues)
  return { bytes, body: result.body }
}

/** Whether a request carries a body to forward. */
const hasBody = (request: Request): boolean =>
  request.body !== null && request.method !== 'GET' && request.method !== 'HEAD'

/**
 * The Anthropic proxy: every `/v1/*` endpoint of the Anthropic API. `POST /v1/messages`
 * (streaming included) and `POST /v1/messages/count_tokens` are validated here (the shapes
 * keyline knows); `GET /v1/models` passes only its paging parameters; every other method and
 * path under `/v1/` (message batches, files, what the API adds) is forwarded as it came, its
 * body streamed through (a multipart upload is never buffered; at most `KEYLINE_MAX_UPLOAD_BYTES`,
 * else a 413 `request_too_large`), its answer streamed back (a
 * download, a batch's JSONL results). All of them take the provider's one call (current key,
 * failover on a 401, retries, redaction, metrics). Mount it after other `/v1/*` routes.
 */
export const anthropicRoutes = (options: AnthropicRoutesOptions): Hono<Env> => {
  const maxBodyBytes = options.maxBodyBytes ?? 1024 * 1024
  if (!Number.isInteger(maxBodyBytes) || maxBodyBytes <= 0) {
    throw new RangeError('maxBodyBytes must be a positive integer')
  }
  const { deps, env } = options
  const app = honoApp<Env>()

  const forward = async (
    c: Context,
    request: Omit<AnthropicRequest, 'headers' | 'publicOrigin'>
  ): Promise<Response> => {
    const answer = await callAnthropic(deps, callScope(c, env), c.get('secrets').anthropic, {
      ...request,
      headers: c.req.raw.headers,
      // Only a message batch names a URL of the upstream (`results_url`) to rewrite.
      publicOrigin: request.path.startsWith('/v1/messages/batches')
        ? new URL(c.req.url).origin
        : undefined,
    })
    return c.body(answer.body, answer.status as 200, answer.headers)
  }

  // Each reads and checks its body itself: what `jsonBody` does, one dispatch layer fewer.
  app.post('/v1/messages', async (c) => {
    const { bytes, body } = await readJsonBody(c.req.raw, messagesBody, maxBodyBytes)
    return forward(c, { path: '/v1/messages', method: 'POST', body: bytes, model: body.model })
  })

  app.post('/v1/messages/count_tokens', async (c) => {
    const { bytes, body } = await readJsonBody(c.req.raw, countTokensBody, maxBodyBytes)
    return forward(c, {
      path: '/v1/messages/count_tokens',
      method: 'POST',
      body: bytes,
      model: body.model,
    })
  })

  app.get('/v1/models', (c) => {
    const query = new URLSearchParams()
    for (const name of ['limit', 'before_id', 'after_id']) {
      const value = c.req.query(name)
      if (value !== undefined) query.set(name, value)
    }
    const search = query.size ? `?${query}` : ''
    return forward(c, { path: `/v1/models${search}`, method: 'GET' })
  })

  app.get('/v1/models/:id{[A-Za-z0-9._:-]+}', (c) =>
    forward(c, { path: `/v1/models/${encodeURIComponent(c.req.param('id'))}`, method: 'GET' })
  )

  // Everything else under /v1/: forwarded as it came, path and query included.
  app.all('/v1/*', (c) => {
    const { pathname, search } = new URL(c.req.url)
    if (!pathname.startsWith('/v1/')) {
      throw new KeylineError(404, 'not_found', 'No such route')
    }
    const raw = c.req.raw
    const given = hasBody(raw) ? (raw.body ?? undefined) : undefined
    // Capped by KEYLINE_MAX_UPLOAD_BYTES: refused by its content-length before a byte is read,
    // else as soon as the stream passes the cap.
    const maxBytes = maxUploadBytes(env(c))
    if (given && Number(raw.headers.get('content-length')) > maxBytes) {
      throw uploadTooLarge(maxBytes)
    }
    const body = given && limitedBody(given, maxBytes)
    return forward(c, {
      path: `${pathname}${search}`,
      method: c.req.method,
      body,
      contentType: body ? (raw.headers.get('content-type') ?? undefined) : undefined,
    })
  })

  return app
}

import { type Context, Hono, type MiddlewareHandler } from 'hono'
import * as z from 'zod/mini'
import type { EnvReader } from '../env.ts'
import { KeylineError } from '../errors/keyline-error.ts'
import { callScope, type SecretsVariables } from '../middleware/secrets.ts'
import { type AnthropicRequest, callAnthropic } from '../providers/anthropic.ts'
import type { CallDeps } from '../providers/call.ts'

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

/** One message of a Messages request: its role and its content, string or blocks. */
const message = z.looseObject({
  role: z.enum(['user', 'assistant'], { error: 'role must be "user" or "assistant"' }),
  content: z.union([z.string(), z.array(z.unknown())], {
    error: 'content must be a string or an array of content blocks',
  }),
})

/**
 * The basic shape of `POST /v1/messages`: `model`, `max_tokens`, `messages`, optional
 * `stream`. Unknown fields pass through untouched, so new API features keep working.
 */
export const messagesBody = z.looseObject(
  {
    model: z
      .string({ error: 'model must be a string' })
      .check(z.minLength(1, { error: 'model must not be empty' })),
    max_tokens: z
      .int({ error: 'max_tokens must be an integer' })
      .check(z.positive({ error: 'max_tokens must be positive' })),
    messages: z
      .array(message, { error: 'messages must be an array' })
      .check(z.minLength(1, { error: 'messages must not be empty' })),
    stream: z.optional(z.boolean({ error: 'stream must be a boolean' })),
  },
  { error: 'the body must be a JSON object' }
)

/** The basic shape of `POST /v1/messages/count_tokens`: `model` and `messages`, the rest passing through. */
export const countTokensBody = z.looseObject(
  {
    model: messagesBody.shape.model,
    messages: messagesBody.shape.messages,
  },
  { error: 'the body must be a JSON object' }
)

/** A validated Messages request body. */
export type MessagesBody = z.infer<typeof messagesBody>

/** What {@link jsonBody} puts on `c.var`. */
export interface JsonBodyVariables<T> {
  /** The request body as it came, to send upstream unchanged. */
  rawBody: string
  /** The body parsed and checked. */
  body: T
}

const invalid = (message: string, issues?: { path: string; message: string }[]): KeylineError =>
  new KeylineError(400, 'invalid_request_error', message, issues ? { details: { issues } } : {})

/** The request body as text, at most `maxBytes` of it, or a 413 `request_too_large`. */
const readLimited = async (request: Request, maxBytes: number): Promise<string> => {
  const tooLarge = () =>
    new KeylineError(413, 'request_too_large', `The request body is larger than ${maxBytes} bytes`)
  const length = request.headers.get('content-length')
  if (length !== null && !request.headers.has('transfer-encoding')) {
    if (Number(length) > maxBytes) throw tooLarge()
    return request.text()
  }
  const reader = request.body?.getReader()
  if (!reader) return ''
  const decoder = new TextDecoder()
  let text = ''
  let size = 0
  for (;;) {
    const { done, value } = await reader.read()
    if (done) return text + decoder.decode()
    size += value.byteLength
    if (size > maxBytes) {
      reader.cancel().catch(() => {})
      throw tooLarge()
    }
    text += decoder.decode(value, { stream: true })
  }
}

/**
 * Reads a JSON body of at most `maxBytes` (a larger one is a 413 `request_too_large`, refused
 * by its `content-length` before a byte is read, or as soon as the stream passes the limit),
 * parses it and checks it against `schema`: malformed JSON, or a body that is not what the
 * schema says, is a 400 `invalid_request_error` whose `issues` name each bad field (paths and
 * messages, never values). Sets `c.var.rawBody` (sent upstream unchanged) and `c.var.body`.
 */
export const jsonBody = <T>(
  schema: z.ZodMiniType<T>,
  maxBytes: number
): MiddlewareHandler<{ Variables: JsonBodyVariables<T> }> =>
  async function jsonBody(c, next) {
    const text = await readLimited(c.req.raw, maxBytes)
    let value: unknown
    try {
      value = JSON.parse(text)
    } catch {
      throw invalid('Malformed JSON in request body')
    }
    const result = z.safeParse(schema, value)
    if (!result.success) {
      const issues = result.error.issues.map((issue) => ({
        path: issue.path.map(String).join('.'),
        message: issue.message,
      }))
      throw invalid('The request is invalid', issues)
    }
    c.set('rawBody', text)
    c.set('body', result.data)
    await next()
  }

/** Whether a request carries a body to forward. */
const hasBody = (request: Request): boolean =>
  request.body !== null && request.method !== 'GET' && request.method !== 'HEAD'

/**
 * The Anthropic proxy: every `/v1/*` endpoint of the Anthropic API. `POST /v1/messages`
 * (streaming included) and `POST /v1/messages/count_tokens` are validated here (the shapes
 * keyline knows); `GET /v1/models` passes only its paging parameters; every other method and
 * path under `/v1/` (message batches, files, what the API adds) is forwarded as it came, its
 * body streamed through (a multipart upload is never buffered), its answer streamed back (a
 * download, a batch's JSONL results). All of them take the provider's one call (current key,
 * failover on a 401, retries, redaction, metrics). Mount it after other `/v1/*` routes.
 */
export const anthropicRoutes = (options: AnthropicRoutesOptions): Hono<Env> => {
  const maxBodyBytes = options.maxBodyBytes ?? 1024 * 1024
  if (!Number.isInteger(maxBodyBytes) || maxBodyBytes <= 0) {
    throw new RangeError('maxBodyBytes must be a positive integer')
  }
  const { deps, env } = options
  const app = new Hono<Env>()

  const forward = async (
    c: Context,
    request: Omit<AnthropicRequest, 'headers' | 'publicOrigin'>
  ): Promise<Response> => {
    const answer = await callAnthropic(deps, callScope(c, env), c.var.secrets.anthropic, {
      ...request,
      headers: c.req.raw.headers,
      // Only a message batch names a URL of the upstream (`results_url`) to rewrite.
      publicOrigin: request.path.startsWith('/v1/messages/batches')
        ? new URL(c.req.url).origin
        : undefined,
    })
    return c.body(answer.body, answer.status as 200, answer.headers)
  }

  app.post('/v1/messages', jsonBody(messagesBody, maxBodyBytes), (c) =>
    forward(c, {
      path: '/v1/messages',
      method: 'POST',
      body: c.var.rawBody,
      model: c.var.body.model,
    })
  )

  app.post('/v1/messages/count_tokens', jsonBody(countTokensBody, maxBodyBytes), (c) =>
    forward(c, {
      path: '/v1/messages/count_tokens',
      method: 'POST',
      body: c.var.rawBody,
      model: c.var.body.model,
    })
  )

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
    const body = hasBody(raw) ? (raw.body ?? undefined) : undefined
    return forward(c, {
      path: `${pathname}${search}`,
      method: c.req.method,
      body,
      contentType: body ? (raw.headers.get('content-type') ?? undefined) : undefined,
    })
  })

  return app
}

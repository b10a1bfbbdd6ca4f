import { resourceRoutes } from './anthropic-resources.ts'
import {
  buildMessage,
  buildStreamEvents,
  errorMessageFor,
  errorTypeFor,
  estimateTokens,
  randomId,
  STUB_MODELS,
} from './anthropic-wire.ts'
import { writeSse } from './sse.ts'
import {
  destroySocket,
  faultHeaders,
  resetMidBody,
  type StartedStub,
  type StubContext,
  startStubServer,
} from './stub-server.ts'

/** Options of {@link startAnthropicStub}. */
export interface AnthropicStubOptions {
  /** `x-api-key` values accepted at start (credential set `apiKeys`). */
  apiKeys?: readonly string[]
  /** Text of every reply. */
  reply?: string
  /** @default 0 (OS-assigned) */
  port?: number
  /** @default '127.0.0.1' */
  hostname?: string
}

/** The default reply text. */
export const DEFAULT_REPLY =
  'Hello from the keyline Anthropic stub. This reply is streamed in several chunks.'

/** An Anthropic error response: `{"type":"error","error":{type,message},"request_id"}`. */
const apiError = (
  c: StubContext,
  status: number,
  type: string,
  message: string,
  headers: Record<string, string> = {}
) =>
  c.json(
    { type: 'error', error: { type, message }, request_id: c.get('requestId') },
    status as 400,
    headers
  )

/** `text` inside a JSON string with its characters as `\uXXXX` escapes (see `EchoFault`). */
const unicodeEscaped = (text: string, how: 'unicode' | 'UNICODE' | 'half'): string =>
  text
    .split('')
    .map((char, i) => {
      if (how === 'half' && i % 2 === 1) return JSON.stringify(char).slice(1, -1)
      const digits = char.charCodeAt(0).toString(16).padStart(4, '0')
      return `\\u${how === 'UNICODE' ? digits.toUpperCase() : digits}`
    })
    .join('')

/** The credential an echo fault leaks back: `x-api-key`, else `authorization`. */
const receivedCredential = (c: StubContext): string =>
  c.req.header('x-api-key') ?? c.req.header('authorization') ?? ''

/** Answers the request's fault when it is not a streaming one; `undefined` to carry on. */
const faultResponse = (c: StubContext, streaming: boolean): Response | undefined => {
  const fault = c.get('fault')
  switch (fault?.kind) {
    case 'status': {
      const type = fault.errorType ?? errorTypeFor(fault.status)
      return apiError(
        c,
        fault.status,
        type,
        fault.message ?? errorMessageFor(type),
        faultHeaders(fault)
      )
    }
    case 'echo': {
      const credential = receivedCredential(c)
      const headers = {
        'x-echo-credential': credential,
        // a header the proxy relays to its clients (anthropic-ratelimit-*), leaking too
        'anthropic-ratelimit-requests-reset': credential,
      }
      const status = fault.status ?? 401
      if (!fault.escape) {
        return apiError(
          c,
          status,
          'authentication_error',
          `invalid x-api-key: ${credential}`,
          headers
        )
      }
      const mark = `@@${crypto.randomUUID()}@@`
      const error = { type: 'authentication_error', message: `invalid x-api-key: ${mark}` }
      const body = JSON.stringify({ type: 'error', error, request_id: c.get('requestId') })
      return c.body(body.replace(mark, unicodeEscaped(credential, fault.escape)), status as 400, {
        'content-type': 'application/json',
        ...headers,
      })
    }
    case 'reset':
      if (streaming) return undefined
      if (fault.afterBytes === undefined) return destroySocket(c)
      return resetMidBody(
        c,
        JSON.stringify({
          id: randomId('msg_01'),
          type: 'message',
          role: 'assistant',
          content: [{ type: 'text', text: DEFAULT_REPLY }],
        }),
        fault.afterBytes
      )
    case 'malformed':
      if (streaming) return undefined
      c.set('status', 200)
      return c.body(`{"id":"${randomId('msg_01')}","type":"message","content":[{"type":"te`, 200, {
        'content-type': 'application/json',
      })
    default:
      return undefined
  }
}

/**
 * The API key of the request: `x-api-key`, else the token of `authorization: Bearer <key>`
 * (how `@anthropic-ai/sdk` 1.x sends `apiKey`).
 */
const apiKeyOf = (c: StubContext): string | undefined => {
  const key = c.req.header('x-api-key')
  if (key) return key
  const m = /^Bearer\s+(\S+)$/i.exec(c.req.header('authorization') ?? '')
  return m?.[1]
}

/** 401 without a valid API key, 400 without `anthropic-version`, else `undefined`. */
const checkHeaders = (c: StubContext): Response | undefined => {
  const key = apiKeyOf(c)
  if (!key) return apiError(c, 401, 'authentication_error', 'x-api-key header is required')
  if (!c.get('state').has('apiKeys', key)) {
    return apiError(c, 401, 'authentication_error', 'invalid x-api-key')
  }
  if (!c.req.header('anthropic-version')) {
    return apiError(c, 400, 'invalid_request_error', 'anthropic-version: header is required')
  }
  return undefined
}

interface MessagesBody {
  model?: unknown
  max_tokens?: unknown
  messages?: unknown
  stream?: unknown
}

const parseBody = async (c: StubContext): Promise<MessagesBody | Response> => {
  try {
    const body: unknown = JSON.parse(await c.req.text())
    if (body && typeof body === 'object' && !Array.isArray(body)) return body as MessagesBody
  } catch {
    // answered below
  }
  return apiError(
    c,
    400,
    'invalid_request_error',
    'There was an issue with the request body: it is not a JSON object'
  )
}

const validate = (c: StubContext, body: MessagesBody, needsMaxTokens: boolean) => {
  if (typeof body.model !== 'string' || !body.model) {
    return apiError(c, 400, 'invalid_request_error', 'model: Field required')
  }
  if (needsMaxTokens && typeof body.max_tokens !== 'number') {
    return apiError(c, 400, 'invalid_request_error', 'max_tokens: Field required')
  }
  if (!Array.isArray(body.messages) || body.messages.length === 0) {
    return apiError(c, 400, 'invalid_request_error', 'messages: at least one message is required')
  }
  return undefined
}

/**
 * Starts a stub of the Anthropic API on loopback: `POST /v1/messages` (JSON or SSE),
 * authenticated by `x-api-key: <key>` or `authorization: Bearer <key>` (the SDK's way),
 * `POST /v1/messages/count_tokens`, `GET /v1/models`, message batches and files (see
 * `anthropic-resources.ts`), speaking the real wire format, with
 * the control API under `/__stub/` (see `types.ts`).
 */
export const startAnthropicStub = (options: AnthropicStubOptions = {}): Promise<StartedStub> => {
  const reply = options.reply ?? DEFAULT_REPLY
  return startStubServer({
    stub: 'anthropic',
    initialSets: { apiKeys: options.apiKeys ?? [] },
    port: options.port,
    hostname: options.hostname,
    middleware(app) {
      app.use(async (c, next) => {
        if (c.req.path.startsWith('/__stub/')) return next()
        const id = randomId('req_011C')
        c.set('requestId', id)
        c.header('request-id', id)
        await next()
      })
    },
    routes(app) {
      app.post('/v1/messages', async (c) => {
        const body = await parseBody(c)
        const streaming = !(body instanceof Response) && body.stream === true
        const early = faultResponse(c, streaming) ?? checkHeaders(c)
        if (early) return early
        if (body instanceof Response) return body
        const invalid = validate(c, body, true)
        if (invalid) return invalid
        const spec = {
          model: body.model as string,
          // An encoded stream carries the key: what keyline must not relay unread.
          text: c.get('fault')?.kind === 'encoding' ? `${reply} ${receivedCredential(c)}` : reply,
          inputTokens: estimateTokens(JSON.stringify(body.messages)),
        }
        if (!streaming) return c.json(buildMessage(spec))
        return writeSse(c, buildStreamEvents(spec), { 'request-id': c.get('requestId') })
      })

      app.post('/v1/messages/count_tokens', async (c) => {
        const body = await parseBody(c)
        const early = faultResponse(c, false) ?? checkHeaders(c)
        if (early) return early
        if (body instanceof Response) return body
        const invalid = validate(c, body, false)
        if (invalid) return invalid
        return c.json({ input_tokens: estimateTokens(JSON.stringify(body.messages)) })
      })

      app.get('/v1/models', (c) => {
        const early = faultResponse(c, false) ?? checkHeaders(c)
        if (early) return early
        const limit = Math.min(1000, Math.max(1, Number(c.req.query('limit') ?? 20) || 20))
        const after = c.req.query('after_id')
        const start = after ? STUB_MODELS.findIndex((m) => m.id === after) + 1 : 0
        const data = STUB_MODELS.slice(start, start + limit)
        return c.json({
          data,
          has_more: start + limit < STUB_MODELS.length,
          first_id: data[0]?.id ?? null,
          last_id: data.at(-1)?.id ?? null,
        })
      })

      app.get('/v1/models/:id', (c) => {
        const early = faultResponse(c, false) ?? checkHeaders(c)
        if (early) return early
        const model = STUB_MODELS.find((m) => m.id === c.req.param('id'))
        if (!model) return apiError(c, 404, 'not_found_error', `model: ${c.req.param('id')}`)
        return c.json(model)
      })

      resourceRoutes(app, {
        early: (c) => faultResponse(c, false) ?? checkHeaders(c),
        apiError: (c, status, type, message) => apiError(c, status, type, message),
        reply,
      })

      app.all('*', (c) => {
        const early = faultResponse(c, false)
        if (early) return early
        return apiError(c, 404, 'not_found_error', 'Not Found')
      })
    },
  })
}

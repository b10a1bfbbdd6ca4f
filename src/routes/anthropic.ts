import { type Context, Hono } from 'hono'
import { bodyLimit } from 'hono/body-limit'
import { validator } from 'hono/validator'
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

/** A validated Messages request body. */
export type MessagesBody = z.infer<typeof messagesBody>

/**
 * Checks a JSON body against `schema`: a failure is a 400 `invalid_request_error` whose
 * `issues` name each bad field (paths and messages, never values).
 */
export const validJson = <T>(schema: z.ZodMiniType<T>) =>
  validator('json', (value): T => {
    const result = z.safeParse(schema, value)
    if (result.success) return result.data
    const issues = result.error.issues.map((issue) => ({
      path: issue.path.map(String).join('.'),
      message: issue.message,
    }))
    throw new KeylineError(400, 'invalid_request_error', 'The request is invalid', {
      details: { issues },
    })
  })

/**
 * The Anthropic proxy: `POST /v1/messages` (streaming included) and `GET /v1/models`,
 * validated here and sent upstream by the provider's one call (current key, failover on a
 * 401, retries, redaction, metrics).
 */
export const anthropicRoutes = (options: AnthropicRoutesOptions): Hono<Env> => {
  const maxBodyBytes = options.maxBodyBytes ?? 1024 * 1024
  if (!Number.isInteger(maxBodyBytes) || maxBodyBytes <= 0) {
    throw new RangeError('maxBodyBytes must be a positive integer')
  }
  const { deps, env } = options
  const app = new Hono<Env>()

  const forward = async (
    c: Context<Env>,
    request: Omit<AnthropicRequest, 'headers'>
  ): Promise<Response> => {
    const answer = await callAnthropic(deps, callScope(c, env), c.var.secrets.anthropic, {
      ...request,
      headers: c.req.raw.headers,
    })
    return c.body(answer.body, answer.status as 200, answer.headers)
  }

  app.post(
    '/v1/messages',
    bodyLimit({
      maxSize: maxBodyBytes,
      onError: () => {
        throw new KeylineError(
          413,
          'request_too_large',
          `The request body is larger than ${maxBodyBytes} bytes`
        )
      },
    }),
    async function cacheRawBody(c, next) {
      // Read the raw text first: the validator parses it, and the upstream gets it unchanged.
      await c.req.text()
      await next()
    },
    validJson(messagesBody),
    async (c) =>
      forward(c, {
        path: '/v1/messages',
        method: 'POST',
        body: await c.req.text(),
        model: c.req.valid('json').model,
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

  return app
}

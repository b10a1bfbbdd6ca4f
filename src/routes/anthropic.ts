import { zValidator } from '@hono/zod-validator'
import { type Context, Hono } from 'hono'
import { bodyLimit } from 'hono/body-limit'
import { KeylineError } from '../errors/keyline-error.ts'
import { ProviderNotConfiguredError } from '../errors/provider-not-configured.ts'
import { redactorOf } from '../middleware/redaction.ts'
import type { SecretsVariables } from '../middleware/secrets.ts'
import {
  type AnthropicErrorBody,
  malformed,
  parseJson,
  readAnthropicError,
} from '../proxy/anthropic-relay.ts'
import { guardStream } from '../proxy/guard-stream.ts'
import { anthropicRequestHeaders, relayedResponseHeaders } from '../proxy/headers.ts'
import { type CallEnd, transportFacts } from '../proxy/observe.ts'
import { providerCall, rethrowUpstream } from '../proxy/provider-call.ts'
import type { ProxyDeps } from '../proxy/proxy-deps.ts'
import { readBody } from '../proxy/read-body.ts'
import { SseUsageTracker, usageOfMessage } from '../proxy/sse-usage.ts'
import { UpstreamError } from '../proxy/upstream-error.ts'
import { upstreamFetch } from '../proxy/upstream-fetch.ts'
import type { Secret } from '../secrets/secret.ts'
import { messagesBody } from './messages-schema.ts'
import { validationHook } from './validation-hook.ts'

/** Options of {@link anthropicRoutes}. */
export interface AnthropicRoutesOptions extends ProxyDeps {
  /**
   * Largest request body accepted by `POST /v1/messages`, in bytes.
   * @default 1048576
   */
  maxBodyBytes?: number
}

type Env = { Variables: SecretsVariables }

const SSE_ERROR = (type: string, message: string): Uint8Array =>
  new TextEncoder().encode(
    `event: error\ndata: ${JSON.stringify({ type: 'error', error: { type, message } })}\n\n`
  )

/**
 * The Anthropic proxy: `POST /v1/messages` (streaming included) and `GET /v1/models`, sent
 * upstream with the current key, failing over to the next key on a 401.
 */
export const anthropicRoutes = (options: AnthropicRoutesOptions): Hono<Env> => {
  const maxBodyBytes = options.maxBodyBytes ?? 1024 * 1024
  if (!Number.isInteger(maxBodyBytes) || maxBodyBytes <= 0) {
    throw new RangeError('maxBodyBytes must be a positive integer')
  }
  const { observer, policy } = options
  const app = new Hono<Env>()

  const forward = async (
    c: Context<Env>,
    path: string,
    method: string,
    body: string | undefined,
    model?: string
  ): Promise<Response> => {
    const snapshot = c.var.secrets.anthropic
    const current = snapshot.credentials.apiKey.current
    if (!snapshot.configured || !current) {
      throw new ProviderNotConfiguredError('anthropic', snapshot.issues)
    }
    const operation = path.startsWith('/v1/messages') ? 'chat' : 'models'
    const startedAt = Date.now()
    const observe = (end: CallEnd): void => observer.anthropic(operation, model, startedAt, end)
    const signal = c.req.raw.signal
    const call = (secret: Secret): Promise<Response> =>
      upstreamFetch(
        {
          url: `${snapshot.settings.baseUrl}${path}`,
          method,
          headers: anthropicRequestHeaders(c.req.raw.headers, secret.reveal(), body !== undefined),
          body,
        },
        { policy, signal, fetch: options.fetch }
      )
    const failUpstream = (error: unknown): never => rethrowUpstream('anthropic', observe, error)
    const result = await providerCall(c, options, {
      provider: 'anthropic',
      credential: 'apiKey',
      current,
      staged: snapshot.credentials.apiKey.next,
      call,
      rejected: (response) => response.status === 401,
      discard: (response) => response.body?.cancel(),
      observe,
    })
    const upstream = result.outcome
    const headers = relayedResponseHeaders(upstream.headers, redactorOf(c))
    headers.set('keyline-key-slot', result.slot)
    const streamed = headers.get('content-type')?.startsWith('text/event-stream') ?? false
    if (!upstream.ok || !streamed) {
      const text = await readBody(upstream, policy.idleTimeoutMs).catch(failUpstream)
      if (!upstream.ok) {
        let relayed: AnthropicErrorBody
        try {
          relayed = readAnthropicError(upstream.status, text)
        } catch (error) {
          observe({ ok: false, facts: { httpStatus: upstream.status } })
          throw error
        }
        observe({
          ok: false,
          facts: { httpStatus: upstream.status, apiErrorType: relayed.error.type },
        })
        const safe = redactorOf(c).redact(relayed) as unknown as AnthropicErrorBody
        return c.json(safe, upstream.status as 400, Object.fromEntries(headers))
      }
      const parsed = parseJson(text)
      if (parsed === undefined) {
        observe({ ok: false, facts: { httpStatus: upstream.status } })
        throw malformed(upstream.status)
      }
      observe({ ok: true, usage: usageOfMessage(parsed) })
      return c.body(text, upstream.status as 200, Object.fromEntries(headers))
    }
    const usage = new SseUsageTracker()
    const stream = guardStream(upstream.body ?? new ReadableStream(), {
      idleTimeoutMs: policy.idleTimeoutMs,
      observe: (chunk) => usage.push(chunk),
      failureTail: (error) =>
        SSE_ERROR(error.kind === 'timeout' ? 'timeout_error' : 'api_error', error.message),
      onEnd: (why) =>
        observe(
          why instanceof UpstreamError
            ? { ok: false, facts: transportFacts(why) }
            : { ok: true, usage: usage.result() }
        ),
    })
    return c.body(stream, upstream.status as 200, Object.fromEntries(headers))
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
    zValidator('json', messagesBody, validationHook),
    async (c) => forward(c, '/v1/messages', 'POST', await c.req.text(), c.req.valid('json').model)
  )

  app.get('/v1/models', (c) => {
    const query = new URLSearchParams()
    for (const name of ['limit', 'before_id', 'after_id']) {
      const value = c.req.query(name)
      if (value !== undefined) query.set(name, value)
    }
    const search = query.size ? `?${query}` : ''
    return forward(c, `/v1/models${search}`, 'GET', undefined)
  })

  app.get('/v1/models/:id{[A-Za-z0-9._:-]+}', (c) =>
    forward(c, `/v1/models/${encodeURIComponent(c.req.param('id'))}`, 'GET', undefined)
  )

  return app
}

import { zValidator } from '@hono/zod-validator'
import { type Context, Hono } from 'hono'
import { bodyLimit } from 'hono/body-limit'
import { KeylineError } from '../errors/keyline-error.ts'
import { ProviderNotConfiguredError } from '../errors/provider-not-configured.ts'
import type { SecretsVariables } from '../middleware/secrets.ts'
import { isJson, malformed, readAnthropicError } from '../proxy/anthropic-relay.ts'
import { withFailover } from '../proxy/failover.ts'
import { guardStream } from '../proxy/guard-stream.ts'
import { anthropicRequestHeaders, relayedResponseHeaders } from '../proxy/headers.ts'
import type { ProxyDeps } from '../proxy/proxy-deps.ts'
import { readBody } from '../proxy/read-body.ts'
import { UpstreamError } from '../proxy/upstream-error.ts'
import { upstreamFailure } from '../proxy/upstream-failure.ts'
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
  const { registry, health, policy } = options
  const app = new Hono<Env>()

  const forward = async (
    c: Context<Env>,
    path: string,
    method: string,
    body: string | undefined
  ): Promise<Response> => {
    const snapshot = c.var.secrets.anthropic
    const current = snapshot.credentials.apiKey.current
    if (!snapshot.configured || !current) {
      throw new ProviderNotConfiguredError('anthropic', snapshot.issues)
    }
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
    let result: Awaited<ReturnType<typeof withFailover<Response>>>
    try {
      result = await withFailover({
        current,
        next: snapshot.credentials.apiKey.next,
        call,
        rejected: (response) => response.status === 401,
        discard: (response) => response.body?.cancel(),
        onFailover: (next, replaced) => {
          registry.promote(next, replaced)
          health.failover('anthropic')
        },
      })
    } catch (error) {
      if (error instanceof UpstreamError) {
        health.failure('anthropic', error.kind)
        throw upstreamFailure('anthropic', error)
      }
      throw error
    }
    const upstream = result.outcome
    const headers = relayedResponseHeaders(upstream.headers)
    headers.set('keyline-key-slot', result.slot)
    const streamed = headers.get('content-type')?.startsWith('text/event-stream') ?? false
    if (!upstream.ok || !streamed) {
      let text: string
      try {
        text = await readBody(upstream, policy.idleTimeoutMs)
      } catch (error) {
        if (error instanceof UpstreamError) {
          health.failure('anthropic', error.kind)
          throw upstreamFailure('anthropic', error)
        }
        throw error
      }
      if (!upstream.ok) {
        const relayed = readAnthropicError(upstream.status, text)
        health.failure('anthropic', relayed.error.type)
        return c.json(relayed, upstream.status as 400, Object.fromEntries(headers))
      }
      if (!isJson(text)) {
        health.failure('anthropic', 'upstream_malformed')
        throw malformed(upstream.status)
      }
      health.success('anthropic')
      return c.body(text, upstream.status as 200, Object.fromEntries(headers))
    }
    health.success('anthropic')
    const stream = guardStream(upstream.body ?? new ReadableStream(), {
      idleTimeoutMs: policy.idleTimeoutMs,
      failureTail: (error) =>
        SSE_ERROR(error.kind === 'timeout' ? 'timeout_error' : 'api_error', error.message),
      onEnd: (why) => {
        if (why instanceof UpstreamError) health.failure('anthropic', why.kind)
      },
    })
    return new Response(stream, { status: upstream.status, headers })
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
    async (c, next) => {
      await c.req.text()
      await next()
    },
    zValidator('json', messagesBody, validationHook),
    async (c) => forward(c, '/v1/messages', 'POST', await c.req.text())
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

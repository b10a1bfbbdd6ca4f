import { describe, expect, it } from 'vitest'
import { describeRuntimes, type RuntimeContext } from './harness/describe-runtimes.ts'

/** A client token for `KEYLINE_CLIENT_TOKENS`, generated per run. */
const CLIENT_TOKEN = `kl-test-${crypto.randomUUID()}`

const MESSAGES_BODY = JSON.stringify({
  model: 'claude-test',
  max_tokens: 16,
  messages: [{ role: 'user', content: 'hello' }],
})

interface ErrorBody {
  error: { type: string; provider?: string; message: string }
  request_id: string
}

/** Reads an error answer, checking the parts every keyline error shares. */
const errorOf = async (response: Response): Promise<ErrorBody> => {
  expect(response.headers.get('content-type')).toMatch(/^application\/json/)
  const body = (await response.json()) as ErrorBody
  expect(body.request_id).toBeTruthy()
  expect(response.headers.get('x-request-id')).toBe(body.request_id)
  return body
}

const authorized = (ctx: RuntimeContext, path: string, init: RequestInit = {}) =>
  ctx.fetch(path, {
    ...init,
    headers: { authorization: `Bearer ${CLIENT_TOKEN}`, ...init.headers },
  })

/**
 * Provider routes with client tokens but no provider configured: the servers get no other
 * binding (the harness never inherits the developer's keys). Add a `describe` per route here;
 * suites that need keys or stub upstreams pass them with `describeRuntimes(name, cases,
 * { bindings })` in their own file (see secret-files.test.ts).
 */
describeRuntimes(
  'provider routes without keys',
  (ctx) => {
    describe('POST /v1/messages', () => {
      it('with no keys, answers 503 (api_error, keyline_type provider_not_configured) naming the variable to set', async () => {
        const response = await authorized(ctx, '/v1/messages', {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: MESSAGES_BODY,
        })
        expect(response.status).toBe(503)
        const body = await errorOf(response)
        // Anthropic-shaped (issue 22 item 4): Anthropic's type, keyline's kept beside it.
        expect(body).toMatchObject({ type: 'error' })
        expect(body.error).toEqual({
          type: 'api_error',
          keyline_type: 'provider_not_configured',
          provider: 'anthropic',
          message: expect.stringContaining('ANTHROPIC_API_KEY'),
        })
      })

      it('without a client token, answers 401 and reads no provider secret', async () => {
        const response = await ctx.fetch('/v1/messages', {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: MESSAGES_BODY,
        })
        expect(response.status).toBe(401)
        expect(response.headers.get('www-authenticate')).toMatch(/^Bearer /)
        const body = await errorOf(response)
        expect(body.error.type).toBe('authentication_error')
        expect(body.error.message).not.toContain(CLIENT_TOKEN)
      })

      it('with a wrong client token, answers 401', async () => {
        const response = await ctx.fetch('/v1/messages', {
          method: 'POST',
          headers: {
            authorization: `Bearer kl-wrong-${crypto.randomUUID()}`,
            'content-type': 'application/json',
          },
          body: MESSAGES_BODY,
        })
        expect(response.status).toBe(401)
        expect((await errorOf(response)).error.type).toBe('authentication_error')
      })
    })

    describe('GET /v1/quotes', () => {
      it('with no keys, answers 503 provider_not_configured naming FYERS_CLIENT_ID and FYERS_ACCESS_TOKEN', async () => {
        const response = await authorized(ctx, '/v1/quotes?symbols=NSE:SBIN-EQ')
        expect(response.status).toBe(503)
        const body = await errorOf(response)
        expect(body.error.type).toBe('provider_not_configured')
        expect(body.error.provider).toBe('fyers')
        expect(body.error.message).toContain('FYERS_CLIENT_ID')
        expect(body.error.message).toContain('FYERS_ACCESS_TOKEN')
      })
    })
  },
  { bindings: { KEYLINE_CLIENT_TOKENS: CLIENT_TOKEN } }
)

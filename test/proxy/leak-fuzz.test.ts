import fc from 'fast-check'
import { HTTPException } from 'hono/http-exception'
import { describe, expect, it } from 'vitest'
import { KeylineError } from '../../src/errors/keyline-error.ts'
import { fingerprint } from '../../src/secrets/fingerprint.ts'
import { unusableReason } from '../../src/secrets/placeholder.ts'
import {
  asciiSecretArb,
  breathe,
  build,
  decodeEscaped,
  ESCAPED_FORMS,
  embedEscaped,
  embedLong,
  LONG_FORMS,
  leaks,
  longLeaks,
  RUNS,
  secretArb,
  shape,
  TIMEOUT,
  unescapeAll,
} from '../support/leak-fuzz.ts'
import { MESSAGE, proxyFixture } from './fixture.ts'

/**
 * Property, through real requests: whatever a handler throws, whatever an upstream echoes back,
 * and whatever a failed fetch carries in its `cause`, no response body, no response header and
 * no log line holds a run of 5 characters of any configured secret, in any form.
 */

/** A secret a binding can hold: already trimmed, not a placeholder, no list separator. */
const bindable = secretArb.filter(
  (s) => s.length >= 8 && s.trim() === s && !s.includes(',') && unusableReason(s) === undefined
)
/** Printable ASCII without spaces: what can travel in an HTTP header to the stub upstream. */
const ASCII = Array.from(
  'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789.*+?^$(){}|[]\\/"\'%-_~!@#&=;<>`'
)
const headerSafe = fc
  .array(fc.constantFrom(...ASCII), { minLength: 16, maxLength: 48 })
  .map((chars) => chars.join(''))
  .filter((s) => unusableReason(s) === undefined)

/** What an upstream answers: a 2xx message, a 400 error, or an SSE stream. */
type Answer = 'json' | 'error' | 'sse'

/**
 * A fetch that answers every request with `echoed(request)` (the JSON text of a string) as a
 * 2xx message's text, a 400 error's message, or in the SSE event `event(echoed)` sent in
 * `pieces` chunks, as `answer()` says at the time.
 */
const echoingFetch = (
  echoed: (request: Request) => string,
  answer: () => Answer,
  event: (echoed: string) => string,
  pieces: number
): typeof globalThis.fetch =>
  (async (input: RequestInfo | URL, init?: RequestInit) => {
    const text = echoed(new Request(input, init))
    const kind = answer()
    if (kind === 'sse') {
      const bytes = new TextEncoder().encode(event(text))
      return new Response(
        new ReadableStream({
          start(controller) {
            for (let i = 0; i < pieces; i++) {
              const from = Math.floor((i * bytes.length) / pieces)
              controller.enqueue(bytes.slice(from, Math.floor(((i + 1) * bytes.length) / pieces)))
            }
            controller.close()
          },
        }),
        { headers: { 'content-type': 'text/event-stream' } }
      )
    }
    const body =
      kind === 'json'
        ? `{"type":"message","content":[{"type":"text","text":${text}}],"usage":{}}`
        : `{"type":"error","error":{"type":"invalid_request_error","message":${text}}}`
    return new Response(body, {
      status: kind === 'json' ? 200 : 400,
      headers: { 'content-type': 'application/json' },
    })
  }) as typeof globalThis.fetch

/**
 * `POST /v1/messages` with `key` bound, streamed when the upstream answers SSE, the logs
 * emptied first; checks the status the upstream's answer means.
 */
const sendMessage = async (
  f: Awaited<ReturnType<typeof proxyFixture>>,
  key: string,
  answer: Answer
): Promise<Response> => {
  f.logs.length = 0
  const res = await f.call(
    '/v1/messages',
    {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ ...MESSAGE, stream: answer === 'sse' }),
    },
    { ...f.env, ANTHROPIC_API_KEY: key }
  )
  expect(res.status).toBe(answer === 'error' ? 400 : 200)
  return res
}

const exposed = async (res: Response): Promise<string> => {
  const headers = [...res.headers].map(([name, value]) => `${name}: ${value}`)
  return `${headers.join('\n')}\n${await res.text()}`
}

describe('no secret leaks through real requests', () => {
  it(
    `a handler that throws any error embedding the secrets (${RUNS} runs)`,
    async () => {
      let next: () => Error = () => new Error('unset')
      const f = await proxyFixture()
      const app = f.app
      app.get('/__fuzz/throw', () => {
        throw next()
      })
      await fc.assert(
        fc.asyncProperty(
          fc.uniqueArray(bindable, { minLength: 4, maxLength: 4 }),
          shape,
          fc.constantFrom('error', 'keyline', 'http'),
          async (secrets, s, kind) => {
            const [anthropic, fyers, admin, client] = secrets as [string, string, string, string]
            const env = {
              ...f.env,
              ANTHROPIC_API_KEY: anthropic,
              FYERS_ACCESS_TOKEN: fyers,
              ADMIN_TOKEN: admin,
              KEYLINE_CLIENT_TOKENS: `${f.clientToken},${client}`,
            }
            next = () => {
              const value = build(s, secrets)
              const text =
                typeof value === 'string'
                  ? value
                  : value instanceof Error
                    ? value.message
                    : 'the handler failed'
              if (kind === 'keyline') {
                return new KeylineError(400, 'bad_thing', text, { details: { value } })
              }
              if (kind === 'http') return new HTTPException(400, { message: text, cause: value })
              return value instanceof Error ? value : new Error(text, { cause: value })
            }
            f.logs.length = 0
            await breathe()
            const res = await f.call('/__fuzz/throw', {}, env)
            expect([400, 500]).toContain(res.status)
            // The route's own name is in the access line; it is no secret, whatever a secret holds.
            const out = `${await exposed(res)}\n${JSON.stringify(f.logs)}`.replaceAll(
              '/__fuzz/throw',
              ''
            )
            expect(leaks(out, secrets)).toEqual([])
          }
        ),
        { numRuns: RUNS }
      )
    },
    TIMEOUT
  )

  it(
    'an upstream that echoes the key back in its error body and headers',
    async () => {
      const f = await proxyFixture()
      await fc.assert(
        fc.asyncProperty(headerSafe, headerSafe, async (anthropic, fyers) => {
          const env = { ...f.env, ANTHROPIC_API_KEY: anthropic, FYERS_ACCESS_TOKEN: fyers }
          await f.anthropic.fault({ kind: 'echo', status: 401 })
          await f.fyers.fault({ kind: 'echo', status: 401 })
          f.logs.length = 0
          const messages = await f.call(
            '/v1/messages',
            {
              method: 'POST',
              headers: { 'content-type': 'application/json' },
              body: JSON.stringify(MESSAGE),
            },
            env
          )
          expect(messages.status).toBe(401)
          const quotes = await f.call('/v1/quotes?symbols=NSE:SBIN-EQ', {}, env)
          expect(quotes.status).toBe(502)
          const out = `${await exposed(messages)}\n${await exposed(quotes)}\n${JSON.stringify(f.logs)}`
          expect(leaks(out, [anthropic, fyers])).toEqual([])
        }),
        { numRuns: Math.ceil(RUNS / 10) }
      )
      const echoed = (await f.anthropic.requests()).at(-1)
      expect(echoed?.fault?.kind).toBe('echo')
    },
    TIMEOUT
  )

  it(
    'a failed upstream fetch whose cause carries the secrets',
    async () => {
      let cause: unknown
      const failing = (async () => {
        throw new TypeError('fetch failed', { cause })
      }) as typeof fetch
      const f = await proxyFixture({}, { fetch: failing, retry: { maxRetries: 0 } })
      await fc.assert(
        fc.asyncProperty(fc.tuple(headerSafe, headerSafe), shape, async (secrets, s) => {
          const [anthropic, fyers] = secrets
          cause = build(s, secrets)
          f.logs.length = 0
          await breathe()
          const env = { ...f.env, ANTHROPIC_API_KEY: anthropic, FYERS_ACCESS_TOKEN: fyers }
          const res = await f.call('/v1/models', {}, env)
          expect(res.status).toBe(502)
          const quotes = await f.call('/v1/quotes?symbols=NSE:SBIN-EQ', {}, env)
          expect(quotes.status).toBe(502)
          const out = `${await exposed(res)}\n${await exposed(quotes)}\n${JSON.stringify(f.logs)}`
          expect(leaks(out, secrets)).toEqual([])
        }),
        { numRuns: Math.ceil(RUNS / 4) }
      )
    },
    TIMEOUT
  )

  it(
    'an upstream that echoes the key upper-cased, in hex, wrapped or truncated, in any answer',
    async () => {
      let echo: (key: string) => string = (key) => key
      let kind: Answer = 'json'
      const fetch = echoingFetch(
        (request) => JSON.stringify(echo(request.headers.get('x-api-key') ?? '')),
        () => kind,
        (echoed) =>
          `event: error\ndata: {"type":"error","error":{"type":"api_error","message":${echoed}}}\n\n`,
        2
      )
      const f = await proxyFixture({}, { fetch })
      await fc.assert(
        fc.asyncProperty(
          asciiSecretArb.filter((k) => unusableReason(k) === undefined),
          fc.constantFrom(...LONG_FORMS),
          fc.integer({ min: 1, max: 76 }),
          fc.constantFrom('json' as const, 'error' as const, 'sse' as const),
          async (key, form, width, answer) => {
            echo = (sent) => `key ${embedLong(sent, form, width)} rejected`
            kind = answer
            const res = await sendMessage(f, key, answer)
            const out = `${await exposed(res)}\n${JSON.stringify(f.logs)}`
            expect(longLeaks(out, [key])).toEqual([])
          }
        ),
        { numRuns: Math.ceil(RUNS / 10) }
      )
    },
    TIMEOUT
  )

  it(
    'an upstream that echoes the key in \\u escapes (fully, half, upper-case, twice) in 2xx JSON, errors and SSE',
    async () => {
      let echo: (key: string) => string = (key) => key
      let kind: Answer = 'json'
      const fetch = echoingFetch(
        // Already the body of a JSON string: the key's characters written as escapes.
        (request) => `"${echo(request.headers.get('x-api-key') ?? '')}"`,
        () => kind,
        (echoed) =>
          `event: content_block_delta\ndata: {"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":${echoed}}}\n\n`,
        3
      )
      const f = await proxyFixture({}, { fetch })
      /** The strings a JSON client reads from the answer. */
      const read = (answer: Answer, body: string): string => {
        if (answer !== 'sse') {
          const value = JSON.parse(body) as {
            content?: { text: string }[]
            error?: { message: string }
          }
          return value.content?.[0]?.text ?? value.error?.message ?? ''
        }
        const data = body.split('\n').find((line) => line.startsWith('data: {"type":"content'))
        const event = JSON.parse(data?.slice('data: '.length) ?? '{}') as {
          delta?: { text: string }
        }
        return event.delta?.text ?? ''
      }
      await fc.assert(
        fc.asyncProperty(
          asciiSecretArb.filter((k) => unusableReason(k) === undefined),
          fc.constantFrom(...ESCAPED_FORMS),
          fc.array(fc.boolean(), { minLength: 1, maxLength: 9 }),
          fc.constantFrom('json' as const, 'error' as const, 'sse' as const),
          async (key, form, mask, answer) => {
            echo = (sent) => embedEscaped(sent, form, mask)
            kind = answer
            const res = await sendMessage(f, key, answer)
            const body = await res.text()
            const decoded = decodeEscaped(read(answer, body), form)
            expect(decoded).toContain(fingerprint(key))
            expect(longLeaks(decoded, [key])).toEqual([])
            const everything = unescapeAll(`${body}\n${JSON.stringify(f.logs)}`)
            expect(longLeaks(everything, [key])).toEqual([])
          }
        ),
        { numRuns: Math.ceil(RUNS / 10) }
      )
    },
    TIMEOUT
  )
})

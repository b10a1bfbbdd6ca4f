import { request } from 'node:http'
import { describe, expect, it } from 'vitest'
import type { StubControl } from '../stubs/control.ts'
import { anthropicSessions } from './harness/anthropic-sessions.ts'
import { describeRuntimes, type RuntimeContext } from './harness/describe-runtimes.ts'

const CLIENT_TOKEN = `kl-test-${crypto.randomUUID()}`
const MESSAGE = JSON.stringify({
  model: 'claude-sonnet-5-5',
  max_tokens: 16,
  messages: [{ role: 'user', content: 'hello' }],
})

const stubs = anthropicSessions(CLIENT_TOKEN)

const messages = (ctx: RuntimeContext, headers: Record<string, string> = {}) =>
  ctx.fetch('/v1/messages', {
    method: 'POST',
    headers: {
      authorization: `Bearer ${CLIENT_TOKEN}`,
      'content-type': 'application/json',
      ...headers,
    },
    body: MESSAGE,
  })

/** Everything a client sees of an answer: header names and values, and the body. */
const exposed = async (res: Response): Promise<string> =>
  `${[...res.headers].map(([name, value]) => `${name}: ${value}`).join('\n')}\n${await res.text()}`

/**
 * Every byte relayed passes the redactor, on every runtime: a 2xx answer that echoes the key in
 * its body and in a relayed header's value and name, the key upper-cased or truncated as
 * providers print it; and a header the client names in `Connection` stops at keyline.
 */
describeRuntimes(
  'relayed answers are redacted',
  (ctx) => {
    const session = (): StubControl => stubs.session(ctx.runtime)
    const key = () => stubs.keys().anthropic.apiKey

    describe('a 2xx answer that echoes the key', () => {
      it('in its body and in a relayed header, whole', async () => {
        await session().fault({ kind: 'echo', status: 200 })
        const res = await messages(ctx)
        expect(res.status).toBe(200)
        const seen = await exposed(res)
        expect(seen).not.toContain(key().slice(8))
        expect(seen).toContain(`…${key().slice(-4)}`)
      })

      for (const how of ['unicode', 'UNICODE', 'half'] as const) {
        it(`in its body written in \\u escapes (${how}), as any JSON client reads it`, async () => {
          await session().fault({ kind: 'echo', status: 200, escape: how })
          const res = await messages(ctx)
          expect(res.status).toBe(200)
          const body = await res.text()
          const message = (JSON.parse(body) as { error: { message: string } }).error.message
          expect(message).toBe(`invalid x-api-key: …${key().slice(-4)}`)
          expect(body.toLowerCase()).not.toContain('\\u0073\\u006b')
        })
      }

      it('in a header name, upper-cased, and truncated as providers print it', async () => {
        const truncated = `${key().slice(0, 16)}...${key().slice(-4)}`
        await session().fault({
          kind: 'status',
          status: 200,
          message: `key ${key().toUpperCase()} or ${truncated}`,
          headers: { [`anthropic-ratelimit-${key().toLowerCase()}`]: '1' },
        })
        const res = await messages(ctx)
        const seen = (await exposed(res)).toLowerCase()
        expect(seen).not.toContain(key().toLowerCase().slice(0, 16))
        expect(seen).not.toContain(key().toLowerCase().slice(8, 24))
      })
    })

    // workerd takes the Connection header away before a Worker runs (and leaves what it names),
    // so only Node and Deno can honour it; on Cloudflare the edge handles hop-by-hop headers.
    it.skipIf(ctx.runtime === 'workerd')(
      'drops a header the client names in Connection',
      async () => {
        // Node's fetch refuses such a Connection header: a plain HTTP/1.1 request.
        const status = await new Promise<number>((resolve, reject) => {
          const req = request(`${ctx.url}/v1/messages`, {
            method: 'POST',
            headers: {
              authorization: `Bearer ${CLIENT_TOKEN}`,
              'content-type': 'application/json',
              'anthropic-beta': 'files-api-2025-04-14',
              connection: 'anthropic-beta',
            },
          })
          req.on('response', (res) => {
            res.resume()
            res.on('end', () => resolve(res.statusCode ?? 0))
          })
          req.on('error', reject)
          req.end(MESSAGE)
        })
        expect(status).toBe(200)
        const [seen] = (await session().requests()).slice(-1)
        expect(seen?.headers['anthropic-beta']).toBeUndefined()
      }
    )
  },
  {
    bindings: stubs.bindings,
  }
)

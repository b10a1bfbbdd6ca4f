import { afterAll, beforeAll, expect, it } from 'vitest'
import { type StubControl, stubControl } from '../stubs/control.ts'
import { generateStubKeys, stubOptionsFor } from '../stubs/fixtures.ts'
import { startFyersStub } from '../stubs/fyers.ts'
import type { StartedStub } from '../stubs/stub-server.ts'
import { describeRuntimes } from './harness/describe-runtimes.ts'

/**
 * What Fyers grants is checked before keyline keeps it, on every runtime: a refresh that grants
 * a token Fyers cannot have issued (4 characters, a line break, `exp: 1e300`) fails with the
 * reason and leaves the current token in use, and the status keeps answering; an expired
 * refresh token is not sent at all.
 */
const CLIENT_TOKEN = `kl-test-${crypto.randomUUID()}`
const ADMIN = `admin-${crypto.randomUUID()}`
const keys = generateStubKeys()

let stub: StartedStub
const sessions = new Map<string, StubControl>()

beforeAll(async () => {
  stub = await startFyersStub(stubOptionsFor(keys).fyers)
})
afterAll(async () => {
  await stub?.close()
})

const part = (value: unknown): string => Buffer.from(JSON.stringify(value)).toString('base64url')
const jwtOf = (claims: Record<string, unknown>): string =>
  `${part({ alg: 'HS256' })}.${part({ jti: crypto.randomUUID(), ...claims })}.${part('sig')}`

const BAD = [
  ['abcd', /4 characters long/],
  [`${jwtOf({ exp: Math.floor(Date.now() / 1000) + 3600 })}\r\nx: 1`, /not a JWT/],
  [jwtOf({ exp: 1e300 }), /no usable exp/],
] as const

describeRuntimes(
  'a token Fyers grants is checked before it is kept',
  (ctx) => {
    const admin = (path: string, init: RequestInit = {}) =>
      ctx.fetch(path, { ...init, headers: { authorization: `Bearer ${ADMIN}` } })

    it('a refresh granting a bad token fails saying why; the bound token stays in use', async () => {
      const control = sessions.get(ctx.runtime) as StubControl
      for (const [token, why] of BAD) {
        await control.fault({ kind: 'token', accessToken: token })
        const res = await admin('/admin/fyers/refresh', { method: 'POST' })
        expect(res.status, ctx.server.output()).toBe(502)
        const body = (await res.json()) as { error: { type: string; message: string } }
        expect(body.error.type).toBe('fyers_refresh_failed')
        expect(body.error.message).toMatch(why)
        const status = await admin('/admin/keys/status')
        expect(status.status).toBe(200)
        const fyers = ((await status.json()) as { providers: { fyers: { source: string } } })
          .providers.fyers
        expect(fyers.source).toBe('env:FYERS_ACCESS_TOKEN')
      }
      const quote = await ctx.fetch('/v1/quotes?symbols=NSE:SBIN-EQ', {
        headers: { authorization: `Bearer ${CLIENT_TOKEN}` },
      })
      expect(quote.status).toBe(200)
      await quote.body?.cancel()
      const [sent] = (await control.requests()).filter((r) => r.path === '/data/quotes')
      expect(sent?.headers.authorization).toBe(`${keys.fyers.clientId}:${keys.fyers.accessToken}`)
      expect(ctx.server.output()).not.toContain('RangeError')
    })
  },
  {
    startTimeoutMs: 60_000,
    bindings: async ({ runtime }) => {
      const control = await stubControl(stub.url).session()
      sessions.set(runtime, control)
      return {
        KEYLINE_CLIENT_TOKENS: CLIENT_TOKEN,
        ADMIN_TOKEN: ADMIN,
        FYERS_BASE_URL: control.url,
        FYERS_CLIENT_ID: keys.fyers.clientId,
        FYERS_ACCESS_TOKEN: keys.fyers.accessToken,
        FYERS_APP_SECRET: keys.fyers.appSecret,
        FYERS_REFRESH_TOKEN: keys.fyers.refreshToken,
        FYERS_PIN: keys.fyers.pin,
      }
    },
  }
)

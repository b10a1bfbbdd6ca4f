import { afterAll, beforeAll, expect, it } from 'vitest'
import { Fernet } from '../../src/vault/fernet.ts'
import { type StubControl, stubControl } from '../stubs/control.ts'
import { generateStubKeys, stubOptionsFor } from '../stubs/fixtures.ts'
import { mintAccessToken, startFyersStub, stubTokenExpiry } from '../stubs/fyers.ts'
import type { StartedStub } from '../stubs/stub-server.ts'
import { describeRuntimes } from './harness/describe-runtimes.ts'

/**
 * A Fyers access token expires while keyline serves quotes, on every runtime: Node and Deno
 * refresh it from their timer shortly before its `exp`, so no quote is ever rejected; on
 * Workers (no timers between requests) the first rejected quote refreshes it on demand. Either
 * way every quote answers 200 and one refresh serves them all.
 */
const CLIENT_TOKEN = `kl-test-${crypto.randomUUID()}`
const ADMIN = `admin-${crypto.randomUUID()}`
/** Lifetime of the token keyline starts with: long enough for `wrangler dev` to come up. */
const START_TTL_S = 15
const keys = generateStubKeys()

let stub: StartedStub
const sessions = new Map<string, { control: StubControl; token: string }>()

beforeAll(async () => {
  stub = await startFyersStub(stubOptionsFor(keys).fyers)
})
afterAll(async () => {
  await stub?.close()
})

/** The bindings of a keyline that can refresh its Fyers token, on the stub session `control`. */
const refreshableBindings = (control: StubControl, token: string): Record<string, string> => ({
  KEYLINE_CLIENT_TOKENS: CLIENT_TOKEN,
  ADMIN_TOKEN: ADMIN,
  FYERS_BASE_URL: control.url,
  FYERS_CLIENT_ID: keys.fyers.clientId,
  FYERS_ACCESS_TOKEN: token,
  FYERS_APP_SECRET: keys.fyers.appSecret,
  FYERS_REFRESH_TOKEN: keys.fyers.refreshToken,
  FYERS_PIN: keys.fyers.pin,
})

describeRuntimes(
  'a Fyers access token that expires is refreshed, and quotes keep working',
  (ctx) => {
    it('every quote answers 200 across the expiry; one refresh; Node and Deno refresh before it', async () => {
      const { control, token } = sessions.get(ctx.runtime) as {
        control: StubControl
        token: string
      }
      const exp = (stubTokenExpiry(token) ?? 0) * 1000
      const statuses: number[] = []
      // Quotes until well past the token's end (and the timer's refresh before it).
      while (Date.now() < exp + 2_000) {
        const response = await ctx.fetch('/v1/quotes?symbols=NSE:SBIN-EQ', {
          headers: { authorization: `Bearer ${CLIENT_TOKEN}` },
        })
        statuses.push(response.status)
        await response.body?.cancel()
        await new Promise((resolve) => setTimeout(resolve, 400))
      }
      expect(new Set(statuses), ctx.server.output()).toEqual(new Set([200]))
      const requests = await control.requests()
      const refreshes = requests.filter((r) => r.path === '/api/v3/validate-refresh-token')
      expect(refreshes, ctx.server.output()).toHaveLength(1)
      const quotes = requests.filter((r) => r.path === '/data/quotes')
      const last = quotes.at(-1)?.headers.authorization
      expect(last).not.toBe(`${keys.fyers.clientId}:${token}`)
      const rejected = quotes.filter((r) => r.status === 401)
      const output = ctx.server.output()
      if (ctx.runtime === 'workerd') {
        // The expired token was rejected once (-8), refreshed, and the quote retried.
        expect(rejected).toHaveLength(1)
        expect(output).toMatch(/"?trigger"?: ?['"]on-demand['"]/)
      } else {
        expect(rejected, output).toHaveLength(0)
        expect(output).toMatch(/"?trigger"?: ?['"]timer['"]/)
      }
      expect(output).toContain('fyers access token refreshed')
      for (const secret of [token, keys.fyers.refreshToken, keys.fyers.appSecret]) {
        expect(output).not.toContain(secret)
      }
      // The status shows the new token's expiry (a day ahead) and the refresh.
      const status = await ctx.fetch('/admin/keys/status', {
        headers: { authorization: `Bearer ${ADMIN}` },
      })
      const body = (await status.json()) as {
        providers: { fyers: { source: string; token: FyersToken } }
      }
      expect(body.providers.fyers.source).toBe('fyers-refresh')
      expect(Date.parse(body.providers.fyers.token.accessToken.expiresAt)).toBeGreaterThan(
        Date.now() + 23 * 3600_000
      )
      expect(body.providers.fyers.token.refresh.last?.outcome).toBe('success')
    })
  },
  {
    startTimeoutMs: 60_000,
    bindings: async ({ runtime }) => {
      const control = await stubControl(stub.url).session()
      const token = await mintAccessToken(control, keys, START_TTL_S)
      sessions.set(runtime, { control, token })
      return refreshableBindings(control, token)
    },
  }
)

interface FyersToken {
  accessToken: { expiresAt: string }
  refresh: { last: { outcome: string } | null }
}

const cronSessions = new Map<string, { control: StubControl; token: string }>()

describeRuntimes(
  'Workers: the cron refreshes an expired Fyers token before any quote',
  (ctx) => {
    it('the 06:15 IST cron refreshes it and stores it in the KV vault; quotes then go straight through', async () => {
      const { control, token } = cronSessions.get(ctx.runtime) as {
        control: StubControl
        token: string
      }
      // The token keyline was started with has expired (it lasted a second).
      expect((stubTokenExpiry(token) ?? 0) * 1000).toBeLessThan(Date.now())
      const fired = await ctx.fetch('/cdn-cgi/local/scheduled?cron=45+0+*+*+*')
      await fired.body?.cancel()
      await expect
        .poll(() => ctx.server.output(), { timeout: 15_000 })
        .toMatch(/"?trigger"?: ?['"]cron['"]/)
      const response = await ctx.fetch('/v1/quotes?symbols=NSE:SBIN-EQ', {
        headers: { authorization: `Bearer ${CLIENT_TOKEN}` },
      })
      expect(response.status, ctx.server.output()).toBe(200)
      await response.body?.cancel()
      const requests = await control.requests()
      expect(requests.filter((r) => r.path === '/api/v3/validate-refresh-token')).toHaveLength(1)
      // No quote was sent with the expired token.
      expect(requests.filter((r) => r.path === '/data/quotes' && r.status === 401)).toHaveLength(0)
      const status = await ctx.fetch('/admin/keys/status', {
        headers: { authorization: `Bearer ${ADMIN}` },
      })
      const body = (await status.json()) as {
        providers: { fyers: { token: { vault: { persisted: boolean; store: string } } } }
      }
      expect(body.providers.fyers.token.vault).toMatchObject({ persisted: true, store: 'kv' })
    })
  },
  {
    runtimes: ['workerd'],
    startTimeoutMs: 60_000,
    bindings: async ({ runtime }) => {
      const control = await stubControl(stub.url).session()
      const token = await mintAccessToken(control, keys, 1)
      cronSessions.set(runtime, { control, token })
      return { ...refreshableBindings(control, token), KEYLINE_VAULT_KEY: Fernet.generateKey() }
    },
  }
)

const burstSessions = new Map<string, { control: StubControl; token: string }>()

describeRuntimes(
  'Workers with the KEYLINE_LIMITS Durable Object bound: parallel quotes on an expired token',
  (ctx) => {
    it('refresh it once (the lock in the object), all answer 200, and the log has the refresh', async () => {
      const { control, token } = burstSessions.get(ctx.runtime) as {
        control: StubControl
        token: string
      }
      expect((stubTokenExpiry(token) ?? 0) * 1000).toBeLessThan(Date.now())
      const answers = await Promise.all(
        Array.from({ length: 12 }, () =>
          ctx.fetch('/v1/quotes?symbols=NSE:SBIN-EQ', {
            headers: { authorization: `Bearer ${CLIENT_TOKEN}` },
          })
        )
      )
      for (const answer of answers) await answer.body?.cancel()
      expect(
        answers.map((a) => a.status),
        ctx.server.output()
      ).toEqual(answers.map(() => 200))
      const requests = await control.requests()
      const refreshes = requests.filter((r) => r.path === '/api/v3/validate-refresh-token')
      expect(refreshes, ctx.server.output()).toHaveLength(1)
      expect(ctx.server.output()).not.toContain('fyers refresh lock unavailable')
      // The rotation events log (in the object) has the one refresh.
      const listed = await ctx.fetch('/admin/events', {
        headers: { authorization: `Bearer ${ADMIN}` },
      })
      const { events } = (await listed.json()) as { events: { action: string; result: string }[] }
      expect(events.filter((e) => e.action === 'fyers-refresh')).toEqual([
        expect.objectContaining({ result: 'ok' }),
      ])
    })
  },
  {
    runtimes: ['workerd'],
    startTimeoutMs: 60_000,
    bindings: async ({ runtime }) => {
      const control = await stubControl(stub.url).session()
      const token = await mintAccessToken(control, keys, 1)
      burstSessions.set(runtime, { control, token })
      return { ...refreshableBindings(control, token), KEYLINE_VAULT_KEY: Fernet.generateKey() }
    },
  }
)

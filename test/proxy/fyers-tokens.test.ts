import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { memoryStore } from '../../src/store/memory-store.ts'
import type { SharedStore } from '../../src/store/shared-store.ts'
import { resetTelemetryState } from '../../src/telemetry/instruments.ts'
import { Fernet } from '../../src/vault/fernet.ts'
import { installTestMetrics, type TestMetrics } from '../unit/telemetry/collect.ts'
import { proxyFixture } from './fixture.ts'

/**
 * The Fyers token lifecycle through the proxy: an access token Fyers rejects is refreshed once
 * (single-flight) and the quote answered; sign-in through the admin routes; the encrypted vault.
 */

let m: TestMetrics
beforeEach(() => {
  resetTelemetryState()
  m = installTestMetrics()
})
afterEach(() => m.shutdown())

const ADMIN = `admin-${crypto.randomUUID()}`
const QUOTE = '/v1/quotes?symbols=NSE:SBIN-EQ'

const refreshes = async (outcome: string): Promise<number> =>
  (await m.points('keyline.fyers.token.refreshes'))
    .filter((p) => p.attributes.outcome === outcome)
    .reduce((n, p) => n + (p.value as number), 0)

/** A proxy whose Fyers token can be refreshed, with the vault on `store` when given. */
const refreshable = async (env: Record<string, string> = {}, store?: SharedStore) => {
  const f = await proxyFixture(
    {
      FYERS_APP_SECRET: '',
      FYERS_REFRESH_TOKEN: '',
      FYERS_PIN: '',
      ADMIN_TOKEN: ADMIN,
      ...env,
    },
    store ? { store } : {}
  )
  const fyersKeys = f.keys.fyers
  const full = {
    ...f.env,
    FYERS_APP_SECRET: fyersKeys.appSecret,
    FYERS_REFRESH_TOKEN: fyersKeys.refreshToken,
    FYERS_PIN: fyersKeys.pin,
    ...env,
  }
  const call = (path: string, init: RequestInit = {}) => f.call(path, init, full)
  const admin = (path: string, init: RequestInit = {}) =>
    f.app.request(
      path,
      { ...init, headers: { authorization: `Bearer ${ADMIN}`, ...init.headers } },
      full
    )
  return { ...f, env: full, call, admin }
}

const tokenCalls = async (
  f: { fyers: { requests(): Promise<{ path: string }[]> } },
  path: string
) => (await f.fyers.requests()).filter((r) => r.path === path).length

describe('Fyers access token refresh on a rejection', () => {
  it('refreshes once when Fyers rejects the token, answers the quote, and uses the new token from then on', async () => {
    const f = await refreshable()
    // The day's token expired at 06:00 IST: Fyers answers -8 for it.
    await f.fyers.keys({ revoke: [f.keys.fyers.accessToken], authErrorCode: -8 })
    const res = await f.call(QUOTE)
    expect(res.status, await res.clone().text()).toBe(200)
    expect(await tokenCalls(f, '/api/v3/validate-refresh-token')).toBe(1)
    const quotes = (await f.fyers.requests()).filter((r) => r.path === '/data/quotes')
    const [first, second] = quotes.map((r) => r.headers.authorization)
    expect(first).toBe(`${f.keys.fyers.clientId}:${f.keys.fyers.accessToken}`)
    expect(second).not.toBe(first)
    // The next request goes straight to Fyers with the refreshed token.
    expect((await f.call(QUOTE)).status).toBe(200)
    const after = (await f.fyers.requests()).filter((r) => r.path === '/data/quotes')
    expect(after).toHaveLength(3)
    expect(after[2]?.headers.authorization).toBe(second)
    expect(await refreshes('success')).toBe(1)
    // The refresh call carried the app's hash, the refresh token and the PIN, as Fyers wants.
    const [refresh] = (await f.fyers.requests()).filter(
      (r) => r.path === '/api/v3/validate-refresh-token'
    )
    const body = JSON.parse(refresh?.body ?? '{}') as Record<string, string>
    expect(body).toMatchObject({
      grant_type: 'refresh_token',
      refresh_token: f.keys.fyers.refreshToken,
      pin: f.keys.fyers.pin,
    })
    expect(body.appIdHash).toMatch(/^[0-9a-f]{64}$/)
  })

  it('makes one refresh for a burst of rejected requests', async () => {
    const f = await refreshable()
    await f.fyers.keys({ revoke: [f.keys.fyers.accessToken], authErrorCode: -8 })
    const answers = await Promise.all(Array.from({ length: 12 }, () => f.call(QUOTE)))
    expect(answers.map((r) => r.status)).toEqual(Array(12).fill(200))
    expect(await tokenCalls(f, '/api/v3/validate-refresh-token')).toBe(1)
    expect(await refreshes('success')).toBe(1)
  })

  it('a failed refresh answers upstream_auth_failed, is counted and logged without any token, and is not retried at once', async () => {
    const f = await refreshable({ FYERS_PIN: '0000' })
    await f.fyers.keys({ set: 'pins', replace: ['1111'] })
    await f.fyers.keys({ revoke: [f.keys.fyers.accessToken], authErrorCode: -8 })
    const res = await f.call(QUOTE)
    expect(res.status).toBe(502)
    expect(((await res.json()) as { error: { type: string } }).error.type).toBe(
      'upstream_auth_failed'
    )
    expect(await refreshes('failure')).toBe(1)
    // Within the backoff another rejection does not hammer Fyers with the same dead refresh.
    expect((await f.call(QUOTE)).status).toBe(502)
    expect(await tokenCalls(f, '/api/v3/validate-refresh-token')).toBe(1)
    const failed = f.logs.find((l) => l.msg === 'fyers access token refresh failed')
    expect(failed).toMatchObject({ level: 'warn', reason: 'fyers_code_-16', trigger: 'on-demand' })
    const text = JSON.stringify(f.logs)
    for (const secret of [
      f.keys.fyers.accessToken,
      f.keys.fyers.refreshToken,
      f.keys.fyers.appSecret,
    ]) {
      expect(text).not.toContain(secret)
    }
    const status = await (await f.admin('/admin/keys/status')).json()
    expect(status.providers.fyers.token.refresh.last).toMatchObject({
      outcome: 'failure',
      trigger: 'on-demand',
      reason: 'fyers_code_-16',
    })
  })

  it('without a refresh token and PIN a rejection reaches the client, and the status says what is missing', async () => {
    const f = await proxyFixture({ ADMIN_TOKEN: ADMIN })
    await f.fyers.keys({ revoke: [f.keys.fyers.accessToken], authErrorCode: -8 })
    expect((await f.call(QUOTE)).status).toBe(502)
    expect(await tokenCalls(f, '/api/v3/validate-refresh-token')).toBe(0)
    const status = await (
      await f.app.request(
        '/admin/keys/status',
        { headers: { authorization: `Bearer ${ADMIN}` } },
        f.env
      )
    ).json()
    expect(status.providers.fyers.token.refresh).toMatchObject({
      possible: false,
      missing: ['FYERS_APP_SECRET', 'FYERS_REFRESH_TOKEN', 'FYERS_PIN'],
    })
    expect(status.providers.fyers.configured).toBe(true)
  })

  it('POST /admin/fyers/refresh refreshes on demand and says by which token fingerprint', async () => {
    const f = await refreshable()
    const res = await f.admin('/admin/fyers/refresh', { method: 'POST' })
    expect(res.status).toBe(200)
    const body = (await res.json()) as { refreshed: boolean; token: string }
    expect(body.refreshed).toBe(true)
    expect(body.token).toMatch(/^….{4}$/)
    const status = await (await f.admin('/admin/keys/status')).json()
    const token = status.providers.fyers.token
    expect(status.providers.fyers.source).toBe('fyers-refresh')
    expect(token.refresh.last).toMatchObject({ outcome: 'success', trigger: 'admin' })
    // The stub's tokens are JWTs that end a day after issue: the status reads their `exp`.
    const expiresAt = Date.parse(token.accessToken.expiresAt)
    expect(expiresAt - Date.now()).toBeGreaterThan(23 * 3600_000)
    expect(JSON.stringify(status)).not.toContain(f.keys.fyers.refreshToken)
  })
})

describe('Fyers sign-in', () => {
  const REDIRECT = 'http://127.0.0.1:9/admin/fyers/callback'

  /** Starts a sign-in and follows the stub's redirect: the callback query keyline receives. */
  const signIn = async (f: Awaited<ReturnType<typeof refreshable>>) => {
    const started = await f.admin('/admin/fyers/login', { method: 'POST' })
    expect(started.status, await started.clone().text()).toBe(200)
    const { url } = (await started.json()) as { url: string; expiresAt: string }
    const sent = new URL(url)
    expect(sent.pathname).toMatch(/\/api\/v3\/generate-authcode$/)
    expect(sent.searchParams.get('client_id')).toBe(f.keys.fyers.clientId)
    expect(sent.searchParams.get('redirect_uri')).toBe(REDIRECT)
    const back = await fetch(url, { redirect: 'manual' })
    expect(back.status).toBe(302)
    const location = new URL(back.headers.get('location') ?? '')
    expect(location.searchParams.get('state')).toBe(sent.searchParams.get('state'))
    return `/admin/fyers/callback${location.search}`
  }

  it('signs in: the callback stores both tokens, shows a page without them, and quotes use the new token', async () => {
    const f = await refreshable({ FYERS_REDIRECT_URI: REDIRECT, FYERS_REFRESH_TOKEN: '' })
    const callback = await signIn(f)
    // The browser arrives without a bearer.
    const page = await f.app.request(callback, { headers: { accept: 'text/html' } }, f.env)
    expect(page.status).toBe(200)
    const html = await page.text()
    expect(html).toContain('Fyers sign-in complete')
    // The console's CSP: no framing (clickjacking), nothing loaded from anywhere.
    expect(page.headers.get('content-security-policy')).toContain("frame-ancestors 'none'")
    expect(page.headers.get('content-security-policy')).toContain("default-src 'none'")
    expect(page.headers.get('x-frame-options')).toBe('DENY')
    const status = await (await f.admin('/admin/keys/status')).json()
    const fyers = status.providers.fyers
    expect(fyers.source).toBe('fyers-sign-in')
    expect(fyers.credentials.refreshToken.current.source).toBe('fyers-sign-in')
    expect(fyers.token.refreshToken.daysLeft).toBeGreaterThan(14)
    const issued = (await f.fyers.state()).sets.accessTokens?.filter(
      (t) => t !== f.keys.fyers.accessToken
    )
    expect(issued).toHaveLength(1)
    for (const token of [
      ...(issued ?? []),
      ...((await f.fyers.state()).sets.refreshTokens ?? []),
    ]) {
      expect(html).not.toContain(token)
      expect(JSON.stringify(status)).not.toContain(token)
    }
    expect((await f.call(QUOTE)).status).toBe(200)
    const last = (await f.fyers.requests()).filter((r) => r.path === '/data/quotes').at(-1)
    expect(last?.headers.authorization).toBe(`${f.keys.fyers.clientId}:${issued?.[0]}`)
    // And the refresh token it got refreshes: the PIN and the app secret are bound.
    expect((await f.admin('/admin/fyers/refresh', { method: 'POST' })).status).toBe(200)
  })

  for (const shared of [false, true]) {
    it(`refuses a replayed, forged or expired state, and one for another app (${shared ? 'used states in the shared store' : 'no shared store'})`, async () => {
      const f = await refreshable(
        { FYERS_REDIRECT_URI: REDIRECT },
        shared ? memoryStore() : undefined
      )
      const callback = await signIn(f)
      expect((await f.app.request(callback, {}, f.env)).status).toBe(200)
      const replay = await f.app.request(callback, {}, f.env)
      expect(replay.status).toBe(400)
      expect(((await replay.json()) as { error: { type: string; message: string } }).error).toEqual(
        expect.objectContaining({ type: 'invalid_state', message: expect.stringContaining('used') })
      )
      const fresh = new URL(await signIn(f), 'http://x')
      const state = fresh.searchParams.get('state') ?? ''
      const [nonce, exp, mac] = state.split('.')
      const tamper = (s: string) => {
        const copy = new URL(fresh)
        copy.searchParams.set('state', s)
        return `${copy.pathname}${copy.search}`
      }
      const flipped = `${mac?.slice(0, -2)}${mac?.endsWith('AA') ? 'BB' : 'AA'}`
      for (const forged of [
        `${nonce}.${exp}.${flipped}`,
        `${nonce}.${Number(exp) + 3600}.${mac}`,
        'not-a-state',
        '',
      ]) {
        const res = await f.app.request(tamper(forged), {}, f.env)
        expect(res.status, forged).toBe(400)
      }
      // Another app secret (another deployment) did not sign it.
      const other = { ...f.env, FYERS_APP_SECRET: `${f.env.FYERS_APP_SECRET}-other` }
      expect((await f.app.request(tamper(state), {}, other)).status).toBe(400)
      // The untampered one still works: forgeries did not use it up.
      expect((await f.app.request(tamper(state), {}, f.env)).status).toBe(200)
      // A forged state shows a page, not a stack, to a browser.
      const page = await f.app.request(tamper('x.y.z'), { headers: { accept: 'text/html' } }, f.env)
      expect(page.status).toBe(400)
      expect(await page.text()).toContain('Fyers sign-in failed')
    })
  }

  it('needs the admin bearer to start, is off without an admin token, and says what is missing', async () => {
    const f = await refreshable({ FYERS_REDIRECT_URI: REDIRECT })
    expect((await f.app.request('/admin/fyers/login', { method: 'POST' }, f.env)).status).toBe(401)
    const noAdmin = { ...f.env, ADMIN_TOKEN: '' }
    expect(
      (await f.app.request('/admin/fyers/callback?state=a&auth_code=b', {}, noAdmin)).status
    ).toBe(404)
    const unset = await f.app.request(
      '/admin/fyers/login',
      { method: 'POST', headers: { authorization: `Bearer ${ADMIN}` } },
      { ...f.env, FYERS_REDIRECT_URI: '', FYERS_APP_SECRET: '' }
    )
    expect(unset.status).toBe(409)
    expect(((await unset.json()) as { error: { missing: string[] } }).error.missing).toEqual([
      'FYERS_APP_SECRET',
      'FYERS_REDIRECT_URI',
    ])
  })
})

describe('the token vault', () => {
  const vaultKey = Fernet.generateKey()

  it('keeps refreshed tokens encrypted in the store and a restarted instance uses them without refreshing', async () => {
    const store = memoryStore()
    const f = await refreshable({ KEYLINE_VAULT_KEY: vaultKey }, store)
    expect((await f.admin('/admin/fyers/refresh', { method: 'POST' })).status).toBe(200)
    const raw = (await store.get('keyline:vault:fyers.tokens')) ?? ''
    expect(raw).not.toBe('')
    const issued = (await f.fyers.state()).sets.accessTokens?.find(
      (t) => t !== f.keys.fyers.accessToken
    )
    expect(issued).toBeDefined()
    for (const plain of [issued ?? '', f.keys.fyers.refreshToken]) {
      expect(raw).not.toContain(plain)
      expect(raw).not.toContain(btoa(plain).slice(0, 16))
    }
    const status = await (await f.admin('/admin/keys/status')).json()
    // A memory store is shared here by two apps in one process; it does not survive a restart.
    expect(status.providers.fyers.token.vault).toEqual({
      persisted: false,
      store: 'memory',
      reason: expect.stringContaining('do not survive a restart'),
    })

    // A new instance (a restart) on the same store reads the vault.
    const g = await refreshable({ KEYLINE_VAULT_KEY: vaultKey }, store)
    await g.fyers.keys({ set: 'accessTokens', accept: [issued ?? ''] })
    await g.fyers.keys({ set: 'clientIds', replace: [f.keys.fyers.clientId] })
    expect((await g.call(QUOTE)).status).toBe(200)
    const [seen] = (await g.fyers.requests()).filter((r) => r.path === '/data/quotes')
    expect(seen?.headers.authorization).toBe(`${f.keys.fyers.clientId}:${issued}`)
    const restarted = await (await g.admin('/admin/keys/status')).json()
    expect(restarted.providers.fyers.source).toBe('vault')
    expect(await tokenCalls(g, '/api/v3/validate-refresh-token')).toBe(0)
  })

  it('without a vault key keeps tokens in memory only, and the status says so', async () => {
    const f = await refreshable({}, memoryStore())
    expect((await f.admin('/admin/fyers/refresh', { method: 'POST' })).status).toBe(200)
    const status = await (await f.admin('/admin/keys/status')).json()
    expect(status.providers.fyers.token.vault).toMatchObject({
      persisted: false,
      reason: expect.stringContaining('KEYLINE_VAULT_KEY'),
    })
  })
})

/** A JWT shaped as Fyers' tokens are, with these claims (unsigned: only its shape is read). */
const jwtOf = (claims: Record<string, unknown>): string => {
  const part = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url')
  const signature = Buffer.from(crypto.getRandomValues(new Uint8Array(32))).toString('base64url')
  return `${part({ alg: 'HS256', typ: 'JWT' })}.${part({ jti: crypto.randomUUID(), ...claims })}.${signature}`
}
const inSeconds = (s: number): number => Math.floor(Date.now() / 1000) + s

describe('tokens Fyers grants are checked before they are kept', () => {
  /** What a broken or hostile token service may grant, and why keyline refuses it. */
  const BAD: [string, (clientId: string) => string, RegExp][] = [
    ['4 characters', () => 'abcd', /is 4 characters long/],
    [
      'a line break',
      (id) => `${jwtOf({ sub: id, exp: inSeconds(3600) })}\r\nx-evil: 1`,
      /not a JWT/,
    ],
    ['exp 1e300', (id) => jwtOf({ sub: id, exp: 1e300 }), /has no usable exp/],
    [
      'an exp a year away',
      (id) => jwtOf({ sub: id, exp: inSeconds(365 * 86_400) }),
      /implausibly late/,
    ],
    ['an expired one', (id) => jwtOf({ sub: id, exp: inSeconds(-60) }), /expired at/],
    ['no exp', (id) => jwtOf({ sub: id }), /has no usable exp/],
    [
      'a payload that is not JSON',
      () => `eyJhbGciOiJIUzI1NiJ9.${Buffer.from('not json at all, no').toString('base64url')}.c2ln`,
      /not a JWT with a JSON payload/,
    ],
    ['another app', () => jwtOf({ sub: 'OTHERAPP99-100', exp: inSeconds(3600) }), /another app/],
    [
      'another app type',
      (id) => jwtOf({ appType: 200, sub: id, exp: inSeconds(3600) }),
      /another app/,
    ],
  ]

  for (const [name, bad, why] of BAD) {
    it(`a refresh granting ${name} is refused: logged, in the events, the current token kept`, async () => {
      const f = await refreshable()
      const token = bad(f.keys.fyers.clientId)
      await f.fyers.fault({
        kind: 'token',
        accessToken: token,
        path: '/api/v3/validate-refresh-token',
      })
      f.logs.length = 0
      // A rejection asks for a refresh: it fails, so the client gets upstream_auth_failed, not a 500.
      await f.fyers.keys({ revoke: [f.keys.fyers.accessToken] })
      const quote = await f.call(QUOTE)
      expect(quote.status).toBe(502)
      expect((await quote.json()).error.type).toBe('upstream_auth_failed')
      expect(await tokenCalls(f, '/api/v3/validate-refresh-token')).toBe(1)
      const line = f.logs.find((l) => l.msg === 'fyers access token refresh failed')
      expect(String(line?.reason)).toMatch(/^invalid_token: the access token /)
      expect(String(line?.reason)).toMatch(why)
      expect(await refreshes('failure')).toBe(1)
      // The status answers (no RangeError) and still hands out the bound token.
      const status = await f.admin('/admin/keys/status')
      expect(status.status).toBe(200)
      const fyers = (await status.json()).providers.fyers
      expect(fyers.source).toBe('env:FYERS_ACCESS_TOKEN')
      expect(fyers.token.refresh.last).toMatchObject({ outcome: 'failure', trigger: 'on-demand' })
      const events = await (await f.admin('/admin/events')).json()
      expect(events.events[0]).toMatchObject({ action: 'fyers-refresh', result: 'error' })
      expect(events.events[0].detail).toMatch(why)
      // Nothing says the token, not even a piece of it.
      const said = JSON.stringify([f.logs, events, fyers])
      expect(said).not.toContain(token.slice(0, 12))
      // The next good grant replaces the bound token as ever.
      await f.fyers.keys({ accept: [f.keys.fyers.accessToken] })
      const admin = await f.admin('/admin/fyers/refresh', { method: 'POST' })
      expect(admin.status).toBe(200)
    })
  }

  it('an admin refresh granting a bad token answers 502 fyers_refresh_failed saying why', async () => {
    const f = await refreshable()
    await f.fyers.fault({ kind: 'token', accessToken: jwtOf({ exp: 1e300 }) })
    const res = await f.admin('/admin/fyers/refresh', { method: 'POST' })
    expect(res.status).toBe(502)
    const body = await res.json()
    expect(body.error.type).toBe('fyers_refresh_failed')
    expect(body.error.message).toContain('invalid_token: the access token has no usable exp')
    const status = await (await f.admin('/admin/keys/status')).json()
    expect(status.providers.fyers.source).toBe('env:FYERS_ACCESS_TOKEN')
  })

  it('a granted refresh token with a line break is refused too, and the old one kept', async () => {
    const f = await refreshable()
    await f.fyers.fault({ kind: 'token', refreshToken: 'r\r\nsecond-line-of-a-refresh-token-000' })
    const res = await f.admin('/admin/fyers/refresh', { method: 'POST' })
    expect(res.status).toBe(502)
    expect((await res.json()).error.message).toContain('the refresh token is not a JWT')
    const status = await (await f.admin('/admin/keys/status')).json()
    expect(status.providers.fyers.credentials.refreshToken.current.source).toBe(
      'env:FYERS_REFRESH_TOKEN'
    )
  })

  it('a sign-in granting a bad token is refused with 502 upstream_malformed; nothing is stored', async () => {
    const REDIRECT = 'http://127.0.0.1:9/admin/fyers/callback'
    const f = await refreshable({ FYERS_REDIRECT_URI: REDIRECT })
    const started = await f.admin('/admin/fyers/login', { method: 'POST' })
    const { url } = (await started.json()) as { url: string }
    const back = await fetch(url, { redirect: 'manual' })
    const location = new URL(back.headers.get('location') ?? '')
    await f.fyers.fault({ kind: 'token', accessToken: `${jwtOf({ exp: inSeconds(3600) })}\n` })
    f.logs.length = 0
    const res = await f.app.request(`/admin/fyers/callback${location.search}`, {}, f.env)
    expect(res.status).toBe(502)
    const body = await res.json()
    expect(body.error.type).toBe('upstream_malformed')
    expect(body.error.message).toContain('the access token is not a JWT')
    expect(f.logs.find((l) => l.msg === 'fyers sign-in token refused')).toBeDefined()
    const status = await (await f.admin('/admin/keys/status')).json()
    expect(status.providers.fyers.source).toBe('env:FYERS_ACCESS_TOKEN')
    expect(status.providers.fyers.credentials.refreshToken.current.source).toBe(
      'env:FYERS_REFRESH_TOKEN'
    )
    // The console page says so too, without the token.
    const html = await f.app.request(
      `/admin/fyers/callback${location.search}`,
      { headers: { accept: 'text/html' } },
      f.env
    )
    expect(html.status).toBe(400) // the state was used: a replay is refused
  })

  it('a bad record in the vault is not used, and the next refresh replaces it', async () => {
    const store = memoryStore()
    const vaultKey = Fernet.generateKey()
    const f = await refreshable({ KEYLINE_VAULT_KEY: vaultKey }, store)
    // Written by whoever can write the store, or by a keyline that did not check grants.
    const { vaultFromEnv } = await import('../../src/vault/token-vault.ts')
    const vault = vaultFromEnv({ KEYLINE_VAULT_KEY: vaultKey }, store).vault
    const bad = `${jwtOf({ exp: inSeconds(3600) })}\r\n`
    await vault?.set(
      'fyers.tokens',
      JSON.stringify({ accessToken: bad, obtainedAt: Date.now(), by: 'refresh' })
    )
    // The bound token is used (no 500 from a header with a line break) ...
    expect((await f.call(QUOTE)).status).toBe(200)
    const [seen] = (await f.fyers.requests()).filter((r) => r.path === '/data/quotes')
    expect(seen?.headers.authorization).toBe(`${f.keys.fyers.clientId}:${f.keys.fyers.accessToken}`)
    // ... and once Fyers rejects it, the refresh stores a good record over the bad one.
    await f.fyers.keys({ revoke: [f.keys.fyers.accessToken] })
    expect((await f.call(QUOTE)).status).toBe(200)
    const kept = JSON.parse((await vault?.get('fyers.tokens')) ?? '{}')
    expect(kept.accessToken).not.toBe(bad)
    expect(kept.accessToken).toMatch(/^[\w-]+\.[\w-]+\.[\w-]+$/)
  })

  it('a bound access token with exp 1e300 does not break the status', async () => {
    const f = await refreshable({ FYERS_ACCESS_TOKEN: jwtOf({ exp: 1e300 }) })
    const res = await f.admin('/admin/keys/status')
    expect(res.status).toBe(200)
    expect((await res.json()).providers.fyers.token.accessToken.expiresAt).toBeNull()
  })
})

describe('an expired refresh token', () => {
  it('is not sent to Fyers, and the status says a sign-in is needed', async () => {
    const expired = jwtOf({ exp: inSeconds(-3600) })
    const f = await refreshable({ FYERS_REFRESH_TOKEN: expired })
    await f.fyers.keys({ set: 'refreshTokens', accept: [expired] })
    await f.fyers.keys({ revoke: [f.keys.fyers.accessToken] })
    f.logs.length = 0
    expect((await f.call(QUOTE)).status).toBe(502)
    expect(await tokenCalls(f, '/api/v3/validate-refresh-token')).toBe(0)
    const line = f.logs.find((l) => l.msg === 'fyers access token refresh failed')
    expect(line?.reason).toBe('refresh token expired: sign in again')
    const admin = await f.admin('/admin/fyers/refresh', { method: 'POST' })
    expect(admin.status).toBe(502)
    expect((await admin.json()).error.message).toContain('refresh token expired: sign in again')
    expect(await tokenCalls(f, '/api/v3/validate-refresh-token')).toBe(0)
    const token = (await (await f.admin('/admin/keys/status')).json()).providers.fyers.token
    expect(token.refreshToken).toMatchObject({ expired: true, daysLeft: 0 })
    expect(token.refresh.possible).toBe(false)
    expect(token.refresh.missing).toEqual([])
    expect(token.signIn.needed).toBe(true)
  })

  it('one that has not expired is sent, and no sign-in is needed', async () => {
    const fresh = jwtOf({ exp: inSeconds(5 * 86_400) })
    const f = await refreshable({ FYERS_REFRESH_TOKEN: fresh })
    await f.fyers.keys({ set: 'refreshTokens', accept: [fresh] })
    expect((await f.admin('/admin/fyers/refresh', { method: 'POST' })).status).toBe(200)
    const token = (await (await f.admin('/admin/keys/status')).json()).providers.fyers.token
    expect(token.refreshToken.expired).toBe(false)
    expect(token.signIn.needed).toBe(false)
  })
})

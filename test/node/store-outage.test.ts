import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { ServerSharedStore } from '../../src/store/server-store.ts'
import { sharedStoreFromEnv } from '../../src/store/server-store.ts'
import { Fernet } from '../../src/vault/fernet.ts'
import { MESSAGE, type ProxyFixture, proxyFixture } from '../proxy/fixture.ts'
import { type RedisServer, startRedisServer } from '../support/redis-server.ts'

/**
 * Issue 21, item 1: a shared store that hangs or refuses costs a request a bounded wait, never
 * an unbounded one. The red team paused Redis with SIGSTOP (it accepts connections and answers
 * nothing): `GET /admin/keys/status` hung over 300 s and an instance started meanwhile hung
 * every `/v1/*` request while `/healthz` said 200; a Redis refusing connections cost up to 14 s
 * a request, 30 s for `/admin/events`, 60 s for a quote that needs the refresh lock. Every store
 * call has a deadline (`KEYLINE_STORE_TIMEOUT_MS`, 250 ms by default) and `/readyz` says 503.
 *
 * The bound asserted (3 s) is an order of magnitude above what the deadlines add up to and two
 * below the hang it replaces: no request here depends on timing luck.
 */
const BOUND_MS = 3_000
const ADMIN = `admin-${crypto.randomUUID()}`
const QUOTE = '/v1/quotes?symbols=NSE:SBIN-EQ'

/** The answer of `request`, or a failure naming how long it hung. */
const bounded = async (what: string, request: () => Promise<Response>) => {
  const started = performance.now()
  let timer: ReturnType<typeof setTimeout> | undefined
  const hung = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} hung for over ${BOUND_MS} ms`)), BOUND_MS)
  })
  try {
    const res = await Promise.race([request(), hung])
    const text = await Promise.race([res.text(), hung])
    if (process.env.OUTAGE_TIMES) console.log(what, Math.round(performance.now() - started))
    return { status: res.status, text, ms: performance.now() - started }
  } finally {
    clearTimeout(timer)
  }
}

let redis: RedisServer
const stores: ServerSharedStore[] = []
beforeAll(async () => {
  redis = await startRedisServer()
}, 30_000)
afterAll(async () => {
  await Promise.allSettled(stores.map((s) => s.close()))
  await redis?.stop()
})

/** A proxy on the Redis at `url`, with the vault, admin API and Fyers refresh configured. */
const proxyOn = async (url: string) => {
  const store = await sharedStoreFromEnv({ KEYLINE_REDIS_URL: url })
  stores.push(store)
  const f = await proxyFixture(
    { ADMIN_TOKEN: ADMIN, KEYLINE_VAULT_KEY: Fernet.generateKey() },
    {
      store,
    }
  )
  const env = {
    ...f.env,
    FYERS_APP_SECRET: f.keys.fyers.appSecret,
    FYERS_REFRESH_TOKEN: f.keys.fyers.refreshToken,
    FYERS_PIN: f.keys.fyers.pin,
  }
  const admin = (path: string, method = 'GET') =>
    Promise.resolve(
      f.app.request(path, { method, headers: { authorization: `Bearer ${ADMIN}` } }, env)
    )
  return { f, env, admin, call: (path: string) => f.call(path, {}, env) }
}

/** Every kind of request the red team saw hang, each within the bound. */
const everyRequestAnswers = async (p: Awaited<ReturnType<typeof proxyOn>>, f: ProxyFixture) => {
  const messages = await bounded('POST /v1/messages', () => f.messages(MESSAGE))
  expect(messages.status, messages.text).toBe(200)
  const status = await bounded('GET /admin/keys/status', () => p.admin('/admin/keys/status'))
  expect(status.status, status.text).toBe(200)
  // The reload stands here: a 200 saying the other instances were not told, within the deadlines.
  const reload = await bounded('POST /admin/keys/reload', () =>
    p.admin('/admin/keys/reload', 'POST')
  )
  expect(reload.status, reload.text).toBe(200)
  expect(JSON.parse(reload.text)).toMatchObject({
    reload: { epoch: null, propagated: false },
    warning: expect.stringContaining('other instances were not told'),
  })
  // The events live in the store: a clear 503, not a hang or a 500.
  const events = await bounded('GET /admin/events', () => p.admin('/admin/events'))
  expect(events.status, events.text).toBe(503)
  expect(JSON.parse(events.text).error.type).toBe('store_unavailable')
  // Fyers rejects the day's token: the quote needs the refresh lock in the shared store.
  await f.fyers.keys({ revoke: [f.keys.fyers.accessToken], authErrorCode: -8 })
  const quote = await bounded('a quote that needs the refresh lock', () => p.call(QUOTE))
  expect(quote.status, quote.text).toBe(200)
  const health = await bounded('GET /healthz', () => p.call('/healthz'))
  expect(health.status).toBe(200)
  const ready = await bounded('GET /readyz', () => p.call('/readyz'))
  expect(ready.status).toBe(503)
  expect(JSON.parse(ready.text)).toMatchObject({
    status: 'degraded',
    store: { kind: 'redis', state: 'unavailable' },
  })
  expect(ready.text).not.toContain('127.0.0.1')
}

describe('a Redis that hangs (SIGSTOP) or refuses connections (issue 21 item 1)', () => {
  it('ready while Redis answers: /readyz 200', async () => {
    const p = await proxyOn(redis.url)
    const ready = await bounded('GET /readyz', () => p.call('/readyz'))
    expect(ready.status, ready.text).toBe(200)
    expect(JSON.parse(ready.text)).toMatchObject({
      status: 'ready',
      store: { kind: 'redis', state: 'ok' },
    })
  })

  it('paused after the instance used it: every request answers within the bound', {
    timeout: 60_000,
  }, async () => {
    const p = await proxyOn(redis.url)
    expect((await bounded('warm-up', () => p.admin('/admin/keys/status'))).status).toBe(200)
    redis.pause()
    try {
      await everyRequestAnswers(p, p.f)
    } finally {
      redis.resume()
    }
    // Redis answers again: so does /readyz.
    await expect
      .poll(async () => (await p.call('/readyz')).status, { timeout: 10_000, interval: 100 })
      .toBe(200)
  })

  it('paused before the instance started: every request answers within the bound', {
    timeout: 60_000,
  }, async () => {
    redis.pause()
    try {
      const p = await proxyOn(redis.url)
      await everyRequestAnswers(p, p.f)
    } finally {
      redis.resume()
    }
  })

  it('refusing connections (stopped): every request answers within the bound', {
    timeout: 60_000,
  }, async () => {
    const gone = await startRedisServer()
    const p = await proxyOn(gone.url)
    expect((await bounded('warm-up', () => p.admin('/admin/keys/status'))).status).toBe(200)
    await gone.stop()
    await everyRequestAnswers(p, p.f)
  })
})

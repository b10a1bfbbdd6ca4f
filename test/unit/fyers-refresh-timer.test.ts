import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import { jwtExpiry } from '../../src/catalog/fyers.ts'
import { startRefreshTimer } from '../../src/providers/fyers/token-timer.ts'
import { FyersTokens } from '../../src/providers/fyers/tokens.ts'
import { SecretRegistry } from '../../src/secrets/registry.ts'
import { memoryStore } from '../../src/store/memory-store.ts'
import type { SharedStore } from '../../src/store/shared-store.ts'

/**
 * The in-process refresh timer of two replicas sharing one store (vault and lock), on a fake
 * clock: each sets its timer from the token it holds; when the other replica refreshed first
 * and this one took that token (a reload epoch reads the vault again), its timer only plans
 * again. It used to refresh anyway: two refreshes for one expiry.
 */
const CLIENT_ID = 'TESTAPP1-100'
const T0 = Date.parse('2026-12-01T03:00:00Z')
const DAY = 86_400_000

/** A Fyers-shaped access token (a JWT of this app) that ends at `expMs`. */
const accessToken = (expMs: number): string => {
  const part = (value: unknown) =>
    btoa(JSON.stringify(value)).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '')
  const claims = { sub: CLIENT_ID, exp: Math.floor(expMs / 1000), jti: crypto.randomUUID() }
  return `${part({ alg: 'none', typ: 'JWT' })}.${part(claims)}.${part(crypto.randomUUID())}`
}

const envWith = (token: string): Record<string, string> => ({
  FYERS_CLIENT_ID: CLIENT_ID,
  FYERS_ACCESS_TOKEN: token,
  FYERS_APP_SECRET: `app-secret-${crypto.randomUUID()}`,
  FYERS_REFRESH_TOKEN: `refresh-${crypto.randomUUID()}`,
  FYERS_PIN: '1234',
  FYERS_BASE_URL: 'https://fyers.test',
})

interface Replica {
  readonly tokens: FyersTokens
  readonly registry: SecretRegistry
  readonly current: () => Promise<string | undefined>
}

const replica = (
  store: SharedStore,
  env: Record<string, string>,
  refreshes: string[],
  answer: () => Response = () =>
    Response.json({ s: 'ok', code: 200, message: '', access_token: accessToken(Date.now() + DAY) })
): Replica => {
  const registry = new SecretRegistry({ readFile: null })
  const tokens = new FyersTokens({
    registry,
    store: () => store,
    vault: (_env, shared) => ({
      vault: {
        get: async (name) => (await shared.get(name)) ?? undefined,
        set: (name, value) => shared.put(name, value),
      },
    }),
    fetch: async (input) => {
      refreshes.push(String(input))
      return answer()
    },
    log: () => {},
  })
  const current = async () =>
    (await registry.resolveProvider(env, 'fyers')).credentials.accessToken.current?.reveal()
  return { tokens, registry, current }
}

describe('the Fyers refresh timer of two replicas on one store', () => {
  beforeEach(() => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'Date'], now: T0 })
  })
  afterEach(() => {
    vi.useRealTimers()
  })

  it('refreshes once: the later timer finds the token the other replica stored, and plans again from it', async () => {
    // The token ends in 100 s: a timer set now fires a tenth of that before (at 90 s).
    const env = envWith(accessToken(T0 + 100_000))
    const store = memoryStore()
    const refreshes: string[] = []
    const a = replica(store, env, refreshes)
    const b = replica(store, env, refreshes)
    const stops = [a.tokens.startTimer(() => env, startRefreshTimer)]
    await vi.advanceTimersByTimeAsync(2_000)
    // b starts 2 s later: its timer fires at 2 + 0.9 × 98 = 90.2 s.
    stops.push(b.tokens.startTimer(() => env, startRefreshTimer))
    await vi.advanceTimersByTimeAsync(88_100)
    expect(refreshes).toEqual(['https://fyers.test/api/v3/validate-refresh-token'])
    const refreshed = await a.current()
    expect(refreshed).not.toBe(env.FYERS_ACCESS_TOKEN)
    // b takes it before its own timer fires, as a reload epoch from a would make it.
    await b.tokens.reload(env)
    expect(await b.current()).toBe(refreshed)
    await vi.advanceTimersByTimeAsync(60_000)
    expect(refreshes).toHaveLength(1)
    // And plans its next refresh from the new token's exp (a day, less five minutes).
    const status = b.tokens.status(env, await b.registry.resolveProvider(env, 'fyers'))
    const exp = jwtExpiry(refreshed ?? '') ?? 0
    expect(exp).toBeGreaterThan(T0 + DAY)
    expect(status.refresh.nextAt).toBe(new Date(exp - 300_000).toISOString())
    for (const stop of stops) stop()
  })

  it('still refreshes when the token it was set for is current when it fires', async () => {
    const env = envWith(accessToken(T0 + 100_000))
    const refreshes: string[] = []
    const a = replica(memoryStore(), env, refreshes)
    const stop = a.tokens.startTimer(() => env, startRefreshTimer)
    await vi.advanceTimersByTimeAsync(89_000)
    expect(refreshes).toHaveLength(0)
    await vi.advanceTimersByTimeAsync(2_000)
    expect(refreshes).toHaveLength(1)
    expect(await a.current()).not.toBe(env.FYERS_ACCESS_TOKEN)
    stop()
  })

  it('after a failed refresh, backs off; a token another replica stored meanwhile ends the retries', async () => {
    const env = envWith(accessToken(T0 + 100_000))
    const store = memoryStore()
    const refreshes: string[] = []
    const failing = replica(store, env, refreshes, () =>
      Response.json({ s: 'error', code: -16, message: 'Invalid pin' }, { status: 401 })
    )
    const stop = failing.tokens.startTimer(() => env, startRefreshTimer)
    await vi.advanceTimersByTimeAsync(91_000)
    expect(refreshes).toHaveLength(1)
    // The first retry: a backoff of 30 s, but never sooner than a minute after the last try.
    await vi.advanceTimersByTimeAsync(58_000)
    expect(refreshes).toHaveLength(1)
    await vi.advanceTimersByTimeAsync(2_000)
    expect(refreshes).toHaveLength(2)
    // Another replica refreshes and stores its token; this one reads the vault (a reload epoch).
    await replica(store, env, []).tokens.refresh(env, 'admin')
    await failing.tokens.reload(env)
    await vi.advanceTimersByTimeAsync(60 * 60_000)
    expect(refreshes).toHaveLength(2)
    stop()
  })

  it('after a token another replica stored, counts its failures from none again', async () => {
    const env = envWith(accessToken(T0 + 100_000))
    const store = memoryStore()
    const tries: number[] = []
    const failing = replica(store, env, [], () => {
      tries.push(Date.now())
      return Response.json({ s: 'error', code: -16, message: 'Invalid pin' }, { status: 401 })
    })
    const stop = failing.tokens.startTimer(() => env, startRefreshTimer)
    // Two failures: at 90 s and a minute later.
    await vi.advanceTimersByTimeAsync(151_000)
    expect(tries).toHaveLength(2)
    await replica(store, env, []).tokens.refresh(env, 'admin')
    await failing.tokens.reload(env)
    const exp = jwtExpiry((await failing.current()) ?? '') ?? 0
    await vi.advanceTimersByTimeAsync(exp - Date.now() - 1_000)
    // Its refresh of the new token fails too: the first failure of it, retried after a minute
    // (the third in a row would wait two).
    expect(tries.slice(2).map((at) => at - exp)).toEqual([-300_000, -240_000, -180_000, -60_000])
    stop()
  })

  it('keeps counting its failures when a reload finds the token it already holds', async () => {
    const env = envWith(accessToken(T0 + 100_000))
    const store = memoryStore()
    // Another replica stored a token that ends as soon; this one takes it, then fails to refresh.
    const ending = accessToken(T0 + 100_000)
    await replica(store, env, [], () =>
      Response.json({ s: 'ok', code: 200, message: '', access_token: ending })
    ).tokens.refresh(env, 'admin')
    const tries: number[] = []
    const failing = replica(store, env, [], () => {
      tries.push(Date.now() - T0)
      return Response.json({ s: 'error', code: -16, message: 'Invalid pin' }, { status: 401 })
    })
    await failing.tokens.reload(env)
    expect(await failing.current()).toBe(ending)
    const stop = failing.tokens.startTimer(() => env, startRefreshTimer)
    await vi.advanceTimersByTimeAsync(151_000)
    expect(tries).toEqual([90_000, 150_000])
    // A reload epoch for another reason: the vault holds the same record, read afresh.
    await failing.tokens.reload(env)
    expect(await failing.current()).toBe(ending)
    await vi.advanceTimersByTimeAsync(200_000)
    // The third failure in a row waits two minutes, as without the reload.
    expect(tries).toEqual([90_000, 150_000, 210_000, 330_000])
    stop()
  })

  it('retries a refresh that failed with backoff, several times before the token ends', async () => {
    const exp = T0 + DAY
    const env = envWith(accessToken(exp))
    const tries: number[] = []
    const failing = replica(memoryStore(), env, [], () => {
      tries.push(Date.now() - exp)
      return Response.json({ s: 'error', code: -16, message: 'Invalid pin' }, { status: 401 })
    })
    const stop = failing.tokens.startTimer(() => env, startRefreshTimer)
    await vi.advanceTimersByTimeAsync(DAY - 1_000)
    // Five minutes before the end, then after 1, 1, 2 minutes (a minute at least between two).
    expect(tries).toEqual([-300_000, -240_000, -180_000, -60_000])
    stop()
  })
})

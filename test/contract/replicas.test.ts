import { Redis } from 'ioredis'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { Fernet } from '../../src/vault/fernet.ts'
import { startAnthropicStub } from '../stubs/anthropic.ts'
import { type StubControl, stubControl } from '../stubs/control.ts'
import { generateStubKeys, stubOptionsFor } from '../stubs/fixtures.ts'
import { mintAccessToken, startFyersStub, stubTokenExpiry } from '../stubs/fyers.ts'
import type { StartedStub } from '../stubs/stub-server.ts'
import { forgedEpochRecord } from '../support/forged-epoch.ts'
import { type RedisServer, startRedisServer } from '../support/redis-server.ts'
import { type RunningServer, startServer } from './harness/server.ts'

/**
 * Two Node replicas of one deployment on one real Redis (`KEYLINE_REDIS_URL`): they share the
 * encrypted token vault, the refresh lock and the reload epoch, as Workers isolates share KV.
 * Both timers fire before the Fyers token's `exp`; the lock lets one refresh and the other
 * takes the token it stored. A reload or a promotion on one reaches the other within the
 * epoch check interval (5 s).
 */
const CLIENT_TOKEN = `kl-test-${crypto.randomUUID()}`
const ADMIN = `admin-${crypto.randomUUID()}`
const VAULT_KEY = Fernet.generateKey()
const TTL_S = 10
const EPOCH_BOUND_MS = 5_000
const keys = generateStubKeys()
const nextKey = `sk-ant-test-next-${crypto.randomUUID()}`

let redis: RedisServer
let fyersStub: StartedStub
let anthropicStub: StartedStub
let fyers: StubControl
let token: string
const replicas: RunningServer[] = []

const quote = (server: RunningServer): Promise<Response> =>
  fetch(`${server.url}/v1/quotes?symbols=NSE:SBIN-EQ`, {
    headers: { authorization: `Bearer ${CLIENT_TOKEN}` },
  })

const admin = (server: RunningServer, path: string, init: RequestInit = {}): Promise<Response> =>
  fetch(`${server.url}${path}`, {
    ...init,
    headers: { authorization: `Bearer ${ADMIN}`, 'content-type': 'application/json' },
  })

interface Status {
  providers: {
    anthropic: { current: { fingerprint: string }; generation: number }
    fyers: { source: string; current: { fingerprint: string } }
  }
}
const status = async (server: RunningServer): Promise<Status> =>
  (await (await admin(server, '/admin/keys/status')).json()) as Status

beforeAll(async () => {
  const options = stubOptionsFor(keys)
  ;[redis, fyersStub, anthropicStub] = await Promise.all([
    startRedisServer(),
    startFyersStub(options.fyers),
    startAnthropicStub({ apiKeys: [keys.anthropic.apiKey, nextKey] }),
  ])
  fyers = stubControl(fyersStub.url)
  token = await mintAccessToken(fyers, keys, TTL_S)
  const bindings = {
    KEYLINE_CLIENT_TOKENS: CLIENT_TOKEN,
    ADMIN_TOKEN: ADMIN,
    KEYLINE_REDIS_URL: redis.url,
    KEYLINE_VAULT_KEY: VAULT_KEY,
    ANTHROPIC_API_KEY: keys.anthropic.apiKey,
    ANTHROPIC_API_KEY_NEW: nextKey,
    ANTHROPIC_BASE_URL: anthropicStub.url,
    FYERS_BASE_URL: fyers.url,
    FYERS_CLIENT_ID: keys.fyers.clientId,
    FYERS_ACCESS_TOKEN: token,
    FYERS_APP_SECRET: keys.fyers.appSecret,
    FYERS_REFRESH_TOKEN: keys.fyers.refreshToken,
    FYERS_PIN: keys.fyers.pin,
  }
  replicas.push(
    ...(await Promise.all([startServer('node', { bindings }), startServer('node', { bindings })]))
  )
}, 60_000)

afterAll(async () => {
  await Promise.allSettled(replicas.map((r) => r.stop()))
  await Promise.allSettled([redis?.stop(), fyersStub?.close(), anthropicStub?.close()])
})

describe('two Node replicas on one Redis', () => {
  it('make one Fyers refresh between them, and both serve the new token', async () => {
    const [a, b] = replicas as [RunningServer, RunningServer]
    const exp = (stubTokenExpiry(token) ?? 0) * 1000
    const statuses: number[] = []
    while (Date.now() < exp + 1_500) {
      const answers = await Promise.all([quote(a), quote(b)])
      for (const answer of answers) {
        statuses.push(answer.status)
        await answer.body?.cancel()
      }
      await new Promise((resolve) => setTimeout(resolve, 300))
    }
    const output = `${a.output()}\n${b.output()}`
    expect(new Set(statuses), output).toEqual(new Set([200]))
    const requests = await fyers.requests()
    expect(
      requests.filter((r) => r.path === '/api/v3/validate-refresh-token'),
      output
    ).toHaveLength(1)
    const [sa, sb] = await Promise.all([status(a), status(b)])
    expect(sa.providers.fyers.current.fingerprint).toBe(sb.providers.fyers.current.fingerprint)
    expect(new Set([sa.providers.fyers.source, sb.providers.fyers.source])).toEqual(
      new Set(['fyers-refresh', 'vault'])
    )
    // Both send Fyers the same new token.
    await Promise.all([quote(a), quote(b)]).then((r) => Promise.all(r.map((x) => x.body?.cancel())))
    const lastTwo = (await fyers.requests()).filter((r) => r.path === '/data/quotes').slice(-2)
    expect(new Set(lastTwo.map((r) => r.headers.authorization))).toEqual(
      new Set([lastTwo[0]?.headers.authorization])
    )
    expect(lastTwo[0]?.headers.authorization).not.toBe(`${keys.fyers.clientId}:${token}`)
    // Redis holds the tokens encrypted only.
    expect(output).not.toContain(token)
  })

  it('answer /readyz 200 while Redis answers', async () => {
    for (const replica of replicas) {
      const res = await fetch(`${replica.url}/readyz`)
      expect(res.status).toBe(200)
      expect(await res.json()).toMatchObject({ status: 'ready', store: { kind: 'redis' } })
    }
  })

  // Issue 21, item 4: whoever can write Redis wrote an epoch record naming the two public
  // fingerprints (any status shows them); every replica promoted. Now it carries no MAC of this
  // deployment's, so each replica ignores it (and logs that once).
  it('ignore a forged reload epoch record written straight into Redis', async () => {
    const [a, b] = replicas as [RunningServer, RunningServer]
    const before = await Promise.all([status(a), status(b)])
    const raw = new Redis(redis.url)
    try {
      await raw.set(
        'keyline:reload-epoch',
        forgedEpochRecord({
          next: `…${nextKey.slice(-4)}`,
          replaced: before[0].providers.anthropic.current.fingerprint,
        })
      )
    } finally {
      raw.disconnect()
    }
    const ignored = (r: RunningServer) => r.output().split('reload epoch ignored').length - 1
    // The epoch is checked on a request at most every 5 s: keep both busy until both saw it.
    await expect
      .poll(
        async () => {
          await Promise.all([quote(a), quote(b)]).then((r) =>
            Promise.all(r.map((x) => x.body?.cancel()))
          )
          return Math.min(ignored(a), ignored(b))
        },
        { timeout: EPOCH_BOUND_MS + 5_000, interval: 250 }
      )
      .toBe(1)
    const after = await Promise.all([status(a), status(b)])
    for (const [i, s] of after.entries()) {
      expect(s.providers.anthropic.current.fingerprint).toBe(
        before[i]?.providers.anthropic.current.fingerprint
      )
    }
  })

  it(`a promotion on one replica reaches the other within ${EPOCH_BOUND_MS} ms`, async () => {
    const [a, b] = replicas as [RunningServer, RunningServer]
    const before = await status(b)
    const promoted = await admin(a, '/admin/keys/promote', {
      method: 'POST',
      body: JSON.stringify({ provider: 'anthropic' }),
    })
    expect(promoted.status, await promoted.clone().text()).toBe(200)
    const body = (await promoted.json()) as {
      promoted: { fingerprint: string; propagated: boolean }
    }
    expect(body.promoted.propagated).toBe(true)
    const started = Date.now()
    await expect
      .poll(async () => (await status(b)).providers.anthropic.current.fingerprint, {
        timeout: EPOCH_BOUND_MS + 3_000,
        interval: 200,
      })
      .toBe(body.promoted.fingerprint)
    expect(Date.now() - started).toBeLessThan(EPOCH_BOUND_MS + 3_000)
    expect(before.providers.anthropic.current.fingerprint).not.toBe(body.promoted.fingerprint)
    await expect.poll(() => b.output()).toContain('reload epoch applied')
  })

  it('a reload on one replica reaches the other', async () => {
    const [a, b] = replicas as [RunningServer, RunningServer]
    const applied = () => b.output().split('reload epoch applied').length
    const seen = applied()
    const reloaded = await admin(a, '/admin/keys/reload', { method: 'POST' })
    expect(reloaded.status).toBe(200)
    expect(((await reloaded.json()) as { reload: { propagated: boolean } }).reload.propagated).toBe(
      true
    )
    // The epoch is checked on a request at most every 5 s: keep b busy.
    await expect
      .poll(
        async () => {
          await (await quote(b)).body?.cancel()
          return applied()
        },
        { timeout: EPOCH_BOUND_MS + 3_000, interval: 250 }
      )
      .toBeGreaterThan(seen)
  })
})

import { describe, expect, it } from 'vitest'
import { forgedEpochRecord } from '../support/forged-epoch.ts'
import { adminHarness, fakeUpstream, generatedEnv, memoryKv, randomValue } from './admin-harness.ts'

/** Two isolates of one deployment: separate registries, the same bindings and KV namespace. */
const twoIsolates = () => {
  let now = 1_000_000
  const clock = { now: () => now, advance: (ms: number) => (now += ms) }
  const upstream = fakeUpstream()
  const a = adminHarness({ now: clock.now, upstream, epochIntervalMs: 5000 })
  const b = adminHarness({ now: clock.now, upstream, epochIntervalMs: 5000 })
  return { a, b, clock, upstream }
}

describe('reload epoch across isolates', () => {
  it('repeats a promotion made in one isolate in the others within the interval', async () => {
    const { a, b, clock, upstream } = twoIsolates()
    const kv = memoryKv()
    const env = { ...generatedEnv(), ANTHROPIC_API_KEY_NEW: randomValue('next'), KEYLINE_KV: kv }
    const token = env.ADMIN_TOKEN
    upstream.anthropicKeys.add(env.ANTHROPIC_API_KEY_NEW)
    const nextFp = `…${env.ANTHROPIC_API_KEY_NEW.slice(-4)}`
    const oldFp = `…${env.ANTHROPIC_API_KEY.slice(-4)}`

    await b.request('/admin/keys/status', env, { token })
    const promoted = await a.request('/admin/keys/promote', env, {
      token,
      method: 'POST',
      body: { provider: 'anthropic' },
    })
    expect((await promoted.json()).promoted.propagated).toBe(true)

    const early = await (await b.request('/admin/keys/status', env, { token })).json()
    expect(early.providers.anthropic.current.fingerprint).toBe(oldFp)
    clock.advance(5000)
    const later = await (await b.request('/admin/keys/status', env, { token })).json()
    expect(later.providers.anthropic.current).toMatchObject({
      fingerprint: nextFp,
      source: 'promoted:ANTHROPIC_API_KEY_NEW',
    })

    // a fresh isolate started afterwards promotes on its first request
    const c = adminHarness({ now: clock.now, upstream })
    const fresh = await (await c.request('/admin/keys/status', env, { token })).json()
    expect(fresh.providers.anthropic.current.fingerprint).toBe(nextFp)
    const record = JSON.parse(kv.data.get('keyline:reload-epoch') ?? '{}')
    expect(JSON.stringify(record)).not.toContain(env.ANTHROPIC_API_KEY_NEW.slice(0, -4))
  })

  it('does not repeat a promotion once the binding moved on', async () => {
    const { a, b, clock, upstream } = twoIsolates()
    const kv = memoryKv()
    const env = { ...generatedEnv(), ANTHROPIC_API_KEY_NEW: randomValue('next'), KEYLINE_KV: kv }
    const token = env.ADMIN_TOKEN
    upstream.anthropicKeys.add(env.ANTHROPIC_API_KEY_NEW)
    await a.request('/admin/keys/promote', env, {
      token,
      method: 'POST',
      body: { provider: 'anthropic' },
    })
    const redeployed = {
      ...env,
      ANTHROPIC_API_KEY: randomValue('third'),
      ANTHROPIC_API_KEY_NEW: undefined,
    }
    clock.advance(5000)
    const body = await (await b.request('/admin/keys/status', redeployed, { token })).json()
    expect(body.providers.anthropic.current).toMatchObject({
      fingerprint: `…${redeployed.ANTHROPIC_API_KEY.slice(-4)}`,
      source: 'env:ANTHROPIC_API_KEY',
    })
  })

  it('drops cached validity in the other isolates on a reload', async () => {
    const { a, b, clock, upstream } = twoIsolates()
    const kv = memoryKv()
    const env = { ...generatedEnv(), ANTHROPIC_API_KEY_NEW: randomValue('next'), KEYLINE_KV: kv }
    const token = env.ADMIN_TOKEN
    const before = await (await b.request('/admin/keys/status', env, { token })).json()
    expect(before.providers.anthropic.next.validity).toBe('invalid')
    upstream.anthropicKeys.add(env.ANTHROPIC_API_KEY_NEW)
    await a.request('/admin/keys/reload', env, { token, method: 'POST' })
    clock.advance(5000)
    const after = await (await b.request('/admin/keys/status', env, { token })).json()
    expect(after.providers.anthropic.next.validity).toBe('valid')
    expect(b.lines.some((l) => l.msg === 'reload epoch applied')).toBe(true)
  })
})

/**
 * Issue 21, item 4: whoever can write the shared store cannot promote. The red team wrote a
 * `keyline:reload-epoch` record naming the two public fingerprints (current and next, shown by
 * any status) of a next key that validation had found invalid: every replica made it current,
 * through reloads and restarts. An epoch record now only says "look again".
 */
describe('a forged reload epoch record (issue 21 item 4)', () => {
  const forge = (env: { ANTHROPIC_API_KEY: string; ANTHROPIC_API_KEY_NEW: string }) =>
    forgedEpochRecord({
      next: `…${env.ANTHROPIC_API_KEY_NEW.slice(-4)}`,
      replaced: `…${env.ANTHROPIC_API_KEY.slice(-4)}`,
    })

  it('promotes nothing, through a reload and a restart, and is logged once', async () => {
    const { a, b, clock } = twoIsolates()
    const kv = memoryKv()
    const env = { ...generatedEnv(), ANTHROPIC_API_KEY_NEW: randomValue('next'), KEYLINE_KV: kv }
    const token = env.ADMIN_TOKEN
    const oldFp = `…${env.ANTHROPIC_API_KEY.slice(-4)}`
    // The next key is not accepted upstream: the admin API refuses to promote it.
    const refused = await a.request('/admin/keys/promote', env, {
      token,
      method: 'POST',
      body: { provider: 'anthropic' },
    })
    expect(refused.status).toBe(409)
    kv.data.set('keyline:reload-epoch', forge(env))
    for (const isolate of [a, b]) {
      clock.advance(5000)
      await isolate.request('/admin/keys/status', env, { token })
      clock.advance(5000)
      const body = await (await isolate.request('/admin/keys/status', env, { token })).json()
      expect(body.providers.anthropic.current.fingerprint).toBe(oldFp)
      expect(
        isolate.lines.filter((l) => String(l.msg).startsWith('reload epoch ignored'))
      ).toHaveLength(1)
    }
    // A reload through the admin API does not carry the forged promotion over.
    await a.request('/admin/keys/reload', env, { token, method: 'POST' })
    expect(JSON.parse(kv.data.get('keyline:reload-epoch') ?? '{}').promotions).toEqual([])
    // A restart (a fresh isolate) reading the forged record again promotes nothing.
    kv.data.set('keyline:reload-epoch', forge(env))
    const restarted = adminHarness({ now: clock.now, upstream: fakeUpstream() })
    const fresh = await (await restarted.request('/admin/keys/status', env, { token })).json()
    expect(fresh.providers.anthropic.current.fingerprint).toBe(oldFp)
  })

  it('a record signed by the deployment still promotes only a next key this instance finds valid', async () => {
    const { a, b, clock, upstream } = twoIsolates()
    const kv = memoryKv()
    const env = { ...generatedEnv(), ANTHROPIC_API_KEY_NEW: randomValue('next'), KEYLINE_KV: kv }
    const token = env.ADMIN_TOKEN
    upstream.anthropicKeys.add(env.ANTHROPIC_API_KEY_NEW)
    await b.request('/admin/keys/status', env, { token })
    const promoted = await a.request('/admin/keys/promote', env, {
      token,
      method: 'POST',
      body: { provider: 'anthropic' },
    })
    expect(promoted.status).toBe(200)
    // Before B looks, the next key is revoked upstream: B validates it itself and refuses.
    upstream.anthropicKeys.delete(env.ANTHROPIC_API_KEY_NEW)
    clock.advance(5000)
    const body = await (await b.request('/admin/keys/status', env, { token })).json()
    expect(body.providers.anthropic.current.fingerprint).toBe(`…${env.ANTHROPIC_API_KEY.slice(-4)}`)
    expect(b.lines.some((l) => String(l.msg).startsWith('reload epoch promotion refused'))).toBe(
      true
    )
  })

  it('a record signed with another admin token is ignored', async () => {
    const { a, b, clock, upstream } = twoIsolates()
    const kv = memoryKv()
    const env = { ...generatedEnv(), ANTHROPIC_API_KEY_NEW: randomValue('next'), KEYLINE_KV: kv }
    upstream.anthropicKeys.add(env.ANTHROPIC_API_KEY_NEW)
    await b.request('/admin/keys/status', env, { token: env.ADMIN_TOKEN })
    // Another deployment (its own admin token) writing into this one's store.
    const other = { ...env, ADMIN_TOKEN: randomValue('other-admin-', 32) }
    const promoted = await a.request('/admin/keys/promote', other, {
      token: other.ADMIN_TOKEN,
      method: 'POST',
      body: { provider: 'anthropic' },
    })
    expect(promoted.status).toBe(200)
    clock.advance(5000)
    const body = await (
      await b.request('/admin/keys/status', env, { token: env.ADMIN_TOKEN })
    ).json()
    expect(body.providers.anthropic.current.fingerprint).toBe(`…${env.ANTHROPIC_API_KEY.slice(-4)}`)
  })
})

import { describe, expect, it } from 'vitest'
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

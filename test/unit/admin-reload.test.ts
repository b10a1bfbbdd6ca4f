import { describe, expect, it } from 'vitest'
import { createApp } from '../../src/app.ts'
import { bindingsOnly } from '../../src/env.ts'
import { memoryStore } from '../../src/store/memory-store.ts'
import { adminHarness, generatedEnv, leaks, memoryKv, randomValue } from './admin-harness.ts'

describe('POST /admin/keys/reload', () => {
  it('picks up changed bindings, bumps the generation and returns the new status', async () => {
    const h = adminHarness()
    const env = generatedEnv()
    const before = await (
      await h.request('/admin/keys/status', env, { token: env.ADMIN_TOKEN })
    ).json()
    const changed = { ...env, ANTHROPIC_API_KEY: randomValue('rotated') }
    const res = await h.request('/admin/keys/reload', changed, {
      token: env.ADMIN_TOKEN,
      method: 'POST',
    })
    expect(res.status).toBe(200)
    const text = await res.text()
    const after = JSON.parse(text)
    expect(after.providers.anthropic.generation).toBeGreaterThan(
      before.providers.anthropic.generation
    )
    expect(after.providers.anthropic.current.fingerprint).toBe(
      `…${changed.ANTHROPIC_API_KEY.slice(-4)}`
    )
    expect(after.providers.fyers.generation).toBe(before.providers.fyers.generation)
    expect(after.reload).toEqual({ epoch: null, propagated: false })
    for (const value of Object.values(changed)) expect(leaks(text, value)).toBeUndefined()
    expect(h.lines.filter((l) => l.msg === 'admin audit').map((l) => l.action)).toEqual([
      'status',
      'reload',
    ])
  })

  it('validates the next secret again, so a key activated upstream becomes valid', async () => {
    const h = adminHarness()
    const env = { ...generatedEnv(), ANTHROPIC_API_KEY_NEW: randomValue('next') }
    const token = env.ADMIN_TOKEN
    const first = await (await h.request('/admin/keys/status', env, { token })).json()
    expect(first.providers.anthropic.next.validity).toBe('invalid')
    h.upstream.anthropicKeys.add(env.ANTHROPIC_API_KEY_NEW)
    const cached = await (await h.request('/admin/keys/status', env, { token })).json()
    expect(cached.providers.anthropic.next.validity).toBe('invalid')
    const reloaded = await (
      await h.request('/admin/keys/reload', env, { token, method: 'POST' })
    ).json()
    expect(reloaded.providers.anthropic.next.validity).toBe('valid')
  })

  it('keeps an unreachable upstream as unknown, not invalid', async () => {
    const h = adminHarness()
    const env = { ...generatedEnv(), ANTHROPIC_API_KEY_NEW: randomValue('next') }
    h.upstream.failAnthropicWith(503)
    const body = await (
      await h.request('/admin/keys/reload', env, { token: env.ADMIN_TOKEN, method: 'POST' })
    ).json()
    expect(body.providers.anthropic.next).toMatchObject({ validity: 'unknown', reason: 'http_503' })
  })

  it('writes a new reload epoch to the KV binding when it is bound', async () => {
    const h = adminHarness()
    const kv = memoryKv()
    const env = { ...generatedEnv(), KEYLINE_KV: kv }
    const body = await (
      await h.request('/admin/keys/reload', env, { token: env.ADMIN_TOKEN, method: 'POST' })
    ).json()
    expect(body.reload.propagated).toBe(true)
    const record = JSON.parse(kv.data.get('keyline:reload-epoch') ?? 'null')
    expect(record).toMatchObject({ epoch: body.reload.epoch, action: 'reload', promotions: [] })
  })
})

describe('a reload without a shared store (issue 22 item 8)', () => {
  it('on one process with a memory or file store, says it reached this instance only', async () => {
    const adminToken = randomValue('admin token')
    const app = createApp({ env: bindingsOnly, store: memoryStore(), logSink: () => {} })
    const res = await app.request(
      '/admin/keys/reload',
      { method: 'POST', headers: { authorization: `Bearer ${adminToken}` } },
      { ADMIN_TOKEN: adminToken }
    )
    expect(res.status).toBe(200)
    const body = (await res.json()) as { reload: { epoch: string | null; propagated: boolean } }
    expect(body.reload.propagated).toBe(false)
  })
})

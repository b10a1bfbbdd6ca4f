import { describe, expect, it } from 'vitest'
import type { KvLike } from '../../src/rotation/epoch-record.ts'
import { adminHarness, fakeUpstream, generatedEnv, randomValue } from './admin-harness.ts'

/** A KV namespace whose every call hangs, or rejects. */
const brokenKv = (how: 'hangs' | 'rejects'): KvLike => {
  const call = (): Promise<never> =>
    how === 'hangs' ? new Promise<never>(() => {}) : Promise.reject(new Error('Command timed out'))
  return { get: call, put: call }
}

describe('a reload or promotion while the shared store is down', () => {
  for (const how of ['hangs', 'rejects'] as const) {
    it(`stands here and says the others were not told, when the store ${how}`, async () => {
      const upstream = fakeUpstream()
      const h = adminHarness({ upstream })
      const env = {
        ...generatedEnv(),
        ANTHROPIC_API_KEY_NEW: randomValue('next'),
        KEYLINE_KV: brokenKv(how),
        KEYLINE_STORE_TIMEOUT_MS: '100',
      }
      const token = env.ADMIN_TOKEN
      upstream.anthropicKeys.add(env.ANTHROPIC_API_KEY_NEW)
      const nextFp = `…${env.ANTHROPIC_API_KEY_NEW.slice(-4)}`

      let started = Date.now()
      const promoted = await h.request('/admin/keys/promote', env, {
        token,
        method: 'POST',
        body: { provider: 'anthropic' },
      })
      const promoteMs = Date.now() - started
      expect(promoted.status).toBe(200)
      const body = await promoted.json()
      expect(body.promoted).toMatchObject({ fingerprint: nextFp, propagated: false })
      expect(body.warning).toMatch(/shared store is unavailable: other instances were not told/)
      expect(body.providers.anthropic.current.fingerprint).toBe(nextFp)

      started = Date.now()
      const reloaded = await h.request('/admin/keys/reload', env, { token, method: 'POST' })
      const reloadMs = Date.now() - started
      expect(reloaded.status).toBe(200)
      const reload = await reloaded.json()
      expect(reload.reload).toEqual({ epoch: null, propagated: false })
      expect(reload.warning).toMatch(/other instances were not told/)

      const warnings = h.lines.filter(
        (l) => l.level === 'warn' && String(l.msg).includes('shared store is unavailable')
      )
      expect(warnings.map((l) => l.action)).toEqual(['promote', 'reload'])
      expect(h.lines.some((l) => String(l.msg).includes('unhandled'))).toBe(false)
      // Bounded by the store deadline (100 ms a call here), not by the store.
      expect(promoteMs).toBeLessThan(600)
      expect(reloadMs).toBeLessThan(600)
    })
  }
})

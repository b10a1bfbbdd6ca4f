import { describe, expect, it } from 'vitest'
import { adminHarness, generatedEnv, leaks, randomValue } from './admin-harness.ts'

const promote = (h: ReturnType<typeof adminHarness>, env: Record<string, unknown>, body: unknown) =>
  h.request('/admin/keys/promote', env, {
    token: env.ADMIN_TOKEN as string,
    method: 'POST',
    body,
  })

describe('POST /admin/keys/promote', () => {
  it('answers 400 naming the valid providers for a bad provider', async () => {
    const h = adminHarness()
    const env = generatedEnv()
    for (const body of [{ provider: 'openai' }, {}, { provider: 3 }]) {
      const res = await promote(h, env, body)
      expect(res.status).toBe(400)
      const error = (await res.json()).error
      expect(error.type).toBe('invalid_request')
      expect(error.message).toBe('provider must be one of: anthropic, fyers')
      expect(error.valid_providers).toEqual(['anthropic', 'fyers'])
    }
    expect(h.lines.filter((l) => l.msg === 'admin audit')).toHaveLength(3)
    expect(h.lines[0]).toMatchObject({ action: 'promote', result: 'rejected' })
  })

  it('answers 409 when no next secret is staged', async () => {
    const h = adminHarness()
    const env = generatedEnv()
    const res = await promote(h, env, { provider: 'anthropic' })
    expect(res.status).toBe(409)
    const error = (await res.json()).error
    expect(error.type).toBe('next_not_staged')
    expect(error.message).toContain('ANTHROPIC_API_KEY_NEW')
  })

  it('answers 409 when the next secret is not valid, and keeps the current one', async () => {
    const h = adminHarness()
    const env = { ...generatedEnv(), FYERS_ACCESS_TOKEN_NEW: randomValue('next') }
    const res = await promote(h, env, { provider: 'fyers' })
    expect(res.status).toBe(409)
    expect((await res.json()).error).toMatchObject({
      type: 'next_not_valid',
      provider: 'fyers',
      validity: 'invalid',
      reason: 'fyers_code_-16',
    })
    const status = await (
      await h.request('/admin/keys/status', env, { token: env.ADMIN_TOKEN })
    ).json()
    expect(status.providers.fyers.current.fingerprint).toBe(`…${env.FYERS_ACCESS_TOKEN.slice(-4)}`)
    expect(h.lines.find((l) => l.action === 'promote')).toMatchObject({
      result: 'rejected',
      provider: 'fyers',
      error: 'next_not_valid',
    })
  })

  it('makes a valid next secret current until the binding changes', async () => {
    const h = adminHarness()
    const env = { ...generatedEnv(), ANTHROPIC_API_KEY_NEW: randomValue('next') }
    h.upstream.anthropicKeys.add(env.ANTHROPIC_API_KEY_NEW)
    const res = await promote(h, env, { provider: 'anthropic' })
    expect(res.status).toBe(200)
    const text = await res.text()
    const body = JSON.parse(text)
    const nextFp = `…${env.ANTHROPIC_API_KEY_NEW.slice(-4)}`
    expect(body.promoted).toEqual({
      provider: 'anthropic',
      credential: 'apiKey',
      fingerprint: nextFp,
      replaced: `…${env.ANTHROPIC_API_KEY.slice(-4)}`,
      propagated: false,
    })
    expect(body.providers.anthropic.current).toMatchObject({
      fingerprint: nextFp,
      source: 'promoted:ANTHROPIC_API_KEY_NEW',
    })
    expect(body.providers.anthropic.next).toBeNull()
    for (const value of Object.values(env)) expect(leaks(text, value)).toBeUndefined()
    const audit = h.lines.find((l) => l.action === 'promote')
    expect(audit).toMatchObject({ result: 'ok', provider: 'anthropic', to: nextFp })
    expect(leaks(JSON.stringify(h.lines), env.ADMIN_TOKEN)).toBeUndefined()

    // the operator then updates the binding: the override is dropped
    const updated = {
      ...env,
      ANTHROPIC_API_KEY: env.ANTHROPIC_API_KEY_NEW,
      ANTHROPIC_API_KEY_NEW: undefined,
    }
    const after = await (
      await h.request('/admin/keys/status', updated, { token: env.ADMIN_TOKEN })
    ).json()
    expect(after.providers.anthropic.current).toMatchObject({
      fingerprint: nextFp,
      source: 'env:ANTHROPIC_API_KEY',
    })
  })
})

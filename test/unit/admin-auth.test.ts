import { describe, expect, it } from 'vitest'
import { cloudflareClientAddress, forwardedClientAddress } from '../../src/admin/client-address.ts'
import { adminHarness, generatedEnv, leaks, randomValue } from './admin-harness.ts'

describe('admin authentication', () => {
  it('answers a JSON 404 that says how to turn the admin API on when no admin token is configured', async () => {
    const { request } = adminHarness()
    const env = { ...generatedEnv(), ADMIN_TOKEN: undefined }
    for (const [path, token] of [
      ['/admin/keys/status', undefined],
      ['/admin/keys/status', 'anything'],
      ['/admin', undefined],
    ] as const) {
      const res = await request(path, env, { token })
      expect(res.status).toBe(404)
      expect(res.headers.get('content-type')).toMatch(/^application\/json/)
      const body = (await res.json()) as { error: { type: string; message: string } }
      expect(body.error.type).toBe('not_found')
      expect(body.error.message).toContain('set ADMIN_TOKEN')
    }
    const unknown = await request('/nowhere', env)
    expect(unknown.status).toBe(404)
  })

  it('treats a placeholder admin token as not configured', async () => {
    const { request } = adminHarness()
    const res = await request(
      '/admin/keys/status',
      { ADMIN_TOKEN: 'changeme' },
      { token: 'changeme' }
    )
    expect(res.status).toBe(404)
  })

  it('answers 401 with a Bearer challenge for a missing or wrong token', async () => {
    const { request } = adminHarness()
    const env = generatedEnv()
    const missing = await request('/admin/keys/status', env)
    expect(missing.status).toBe(401)
    expect(missing.headers.get('www-authenticate')).toMatch(/^Bearer /)
    expect((await missing.json()).error.type).toBe('authentication_error')
    const wrong = await request('/admin/keys/status', env, { token: randomValue('admin-', 32) })
    expect(wrong.status).toBe(401)
    expect(wrong.headers.get('www-authenticate')).toMatch(/^Bearer /)
    const malformed = await request('/admin/keys/status', env, { token: 'not a token!' })
    expect(malformed.status).toBe(401)
  })

  it('accepts ADMIN_TOKEN and ADMIN_TOKEN_NEW while the admin token rotates', async () => {
    const { request, lines } = adminHarness()
    const env = { ...generatedEnv(), ADMIN_TOKEN_NEW: randomValue('admin-new-', 32) }
    expect((await request('/admin/keys/status', env, { token: env.ADMIN_TOKEN })).status).toBe(200)
    expect((await request('/admin/keys/status', env, { token: env.ADMIN_TOKEN_NEW })).status).toBe(
      200
    )
    const audits = lines.filter((l) => l.msg === 'admin audit')
    expect(audits.map((l) => l.tokenVariable)).toEqual(['ADMIN_TOKEN', 'ADMIN_TOKEN_NEW'])
    expect(audits[1]?.token).toBe(`…${env.ADMIN_TOKEN_NEW.slice(-4)}`)
  })

  it('refuses a client with 429 and retry-after after N failures in the window', async () => {
    let now = 1_000_000
    const { request } = adminHarness({
      rateLimit: { maxFailures: 3, windowMs: 30_000 },
      now: () => now,
    })
    const env = generatedEnv()
    const from = (ip: string, token: string) =>
      request('/admin/keys/status', env, {
        token,
        headers: { 'cf-connecting-ip': ip },
      })
    for (let i = 0; i < 3; i++) expect((await from('192.0.2.7', 'wrong-token')).status).toBe(401)
    const limited = await from('192.0.2.7', env.ADMIN_TOKEN)
    expect(limited.status).toBe(429)
    expect(Number(limited.headers.get('retry-after'))).toBe(30)
    expect((await limited.json()).error.type).toBe('rate_limited')
    // another address is not affected
    expect((await from('198.51.100.9', env.ADMIN_TOKEN)).status).toBe(200)
    now += 30_000
    expect((await from('192.0.2.7', env.ADMIN_TOKEN)).status).toBe(200)
  })

  it('cannot be escaped with a made-up x-forwarded-for per guess', async () => {
    const { request } = adminHarness({ rateLimit: { maxFailures: 3, windowMs: 30_000 } })
    const env = generatedEnv()
    const statuses: number[] = []
    for (let i = 0; i < 6; i++) {
      const res = await request('/admin/keys/status', env, {
        token: 'wrong-token-wrong-token',
        headers: { 'x-forwarded-for': `203.0.113.${i}` },
      })
      statuses.push(res.status)
    }
    expect(statuses).toEqual([401, 401, 401, 429, 429, 429])
  })

  it('trusts x-forwarded-for only with forwardedClientAddress (behind a proxy that sets it)', async () => {
    const { request } = adminHarness({
      rateLimit: { maxFailures: 1, windowMs: 30_000 },
      clientAddress: forwardedClientAddress(cloudflareClientAddress),
    })
    const env = generatedEnv()
    const from = (ip: string) =>
      request('/admin/keys/status', env, {
        token: 'wrong-token-wrong-token',
        headers: { 'x-forwarded-for': `${ip}, 10.0.0.1` },
      })
    expect((await from('192.0.2.1')).status).toBe(401)
    expect((await from('192.0.2.1')).status).toBe(429)
    expect((await from('192.0.2.2')).status).toBe(401)
  })

  it('stays off with an admin token shorter than 16 characters', async () => {
    const { request } = adminHarness()
    const res = await request(
      '/admin/keys/status',
      { ADMIN_TOKEN: 'short-token' },
      { token: 'short-token' }
    )
    expect(res.status).toBe(404)
  })

  it('logs failed attempts with the client address and without the presented token', async () => {
    const { request, lines } = adminHarness()
    const env = generatedEnv()
    const presented = randomValue('guess-', 32)
    await request('/admin/keys/status', env, {
      token: presented,
      headers: { 'cf-connecting-ip': '203.0.113.5' },
    })
    const failure = lines.find((l) => l.msg === 'admin authentication failed')
    expect(failure).toMatchObject({ reason: 'invalid_token', client: '203.0.113.5' })
    const text = JSON.stringify(lines)
    expect(leaks(text, presented)).toBeUndefined()
    expect(leaks(text, env.ADMIN_TOKEN)).toBeUndefined()
  })
})

describe('no other website can lock the admins out', () => {
  it('requests without a token, and cross-site ones, never count toward the failure limit', async () => {
    const { request } = adminHarness({ rateLimit: { maxFailures: 3, windowMs: 60_000 } })
    const env = generatedEnv()
    const ip = { 'cf-connecting-ip': '192.0.2.44' }
    for (let i = 0; i < 12; i++) {
      // what a third-party page's no-cors POSTs look like: no token, cross-site
      const noToken = await request('/admin/keys/reload', env, {
        method: 'POST',
        headers: { ...ip, 'sec-fetch-site': 'cross-site', origin: 'https://evil.example' },
      })
      expect(noToken.status).toBe(403)
      expect((await noToken.json()).error.type).toBe('forbidden')
      expect((await request('/admin/keys/status', env, { headers: ip })).status).toBe(401)
    }
    // a cross-site request is refused unjudged, even with the right token
    const crossWithToken = await request('/admin/keys/status', env, {
      token: env.ADMIN_TOKEN,
      headers: { ...ip, origin: 'https://evil.example' },
    })
    expect(crossWithToken.status).toBe(403)
    // the signed-in console (same origin) still gets in
    const same = await request('/admin/keys/status', env, {
      token: env.ADMIN_TOKEN,
      headers: { ...ip, 'sec-fetch-site': 'same-origin', origin: 'http://localhost' },
    })
    expect(same.status).toBe(200)
    // wrong tokens still count: the 4th attempt after 3 failures is 429
    for (let i = 0; i < 3; i++) {
      expect(
        (await request('/admin/keys/status', env, { token: 'wrong-token', headers: ip })).status
      ).toBe(401)
    }
    expect(
      (await request('/admin/keys/status', env, { token: env.ADMIN_TOKEN, headers: ip })).status
    ).toBe(429)
  })
})

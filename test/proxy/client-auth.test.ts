import { describe, expect, it } from 'vitest'
import { MESSAGE, proxyFixture } from './fixture.ts'

const sha256Hex = async (value: string): Promise<string> => {
  const digest = await crypto.subtle.digest('SHA-256', new TextEncoder().encode(value))
  return [...new Uint8Array(digest)].map((b) => b.toString(16).padStart(2, '0')).join('')
}

describe('client authentication', () => {
  it('is closed with no client tokens, and says how to open it', async () => {
    const f = await proxyFixture({ KEYLINE_CLIENT_TOKENS: '' })
    const res = await f.messages(MESSAGE)
    expect(res.status).toBe(401)
    expect(res.headers.get('www-authenticate')).toMatch(/^Bearer/)
    const body = (await res.json()) as { error: { type: string; message: string } }
    expect(body.error.type).toBe('authentication_error')
    expect(body.error.message).toContain('KEYLINE_CLIENT_TOKENS')
    expect(await f.anthropic.requests()).toHaveLength(0)
  })

  it('refuses a missing or wrong bearer token', async () => {
    const f = await proxyFixture()
    for (const authorization of ['', 'Bearer nope-nope-nope-nope-nope', `Basic ${f.clientToken}`]) {
      const res = await f.call('/v1/models', { headers: { authorization } })
      expect(res.status).toBe(401)
    }
    expect(await f.anthropic.requests()).toHaveLength(0)
  })

  it('accepts any listed token, plaintext or sha256 digest', async () => {
    const other = `other-token-${crypto.randomUUID()}`
    const f = await proxyFixture()
    const tokens = `${f.clientToken}, sha256:${await sha256Hex(other)}`
    const env = { ...f.env, KEYLINE_CLIENT_TOKENS: tokens }
    expect((await f.call('/v1/models', {}, env)).status).toBe(200)
    const res = await f.call('/v1/models', { headers: { authorization: `Bearer ${other}` } }, env)
    expect(res.status).toBe(200)
  })

  it('accepts the client token as x-api-key on Anthropic routes (timing-safe, same rules), Bearer only on Fyers', async () => {
    const f = await proxyFixture()
    const apiKey = (token: string) => ({ headers: { authorization: '', 'x-api-key': token } })
    expect((await f.call('/v1/models', apiKey(f.clientToken))).status).toBe(200)
    const sent = await f.anthropic.requests()
    // The upstream gets keyline's key, never the client token.
    expect(sent.at(-1)?.headers['x-api-key']).not.toBe(f.clientToken)
    const wrong = await f.call('/v1/models', apiKey(`${f.clientToken}x`))
    expect(wrong.status).toBe(401)
    const body = (await wrong.json()) as { error: { type: string; message: string } }
    expect(body.error.type).toBe('authentication_error')
    expect(body.error.message).toContain('Authorization: Bearer <token>')
    expect(body.error.message).toContain('x-api-key: <token>')
    // Fyers' route is keyline's own: Bearer only, and its 401 says so.
    const quotes = await f.call('/v1/quotes?symbols=NSE:SBIN-EQ', apiKey(f.clientToken))
    expect(quotes.status).toBe(401)
    expect(await quotes.text()).toContain('Authorization: Bearer <token>')
  })

  it('refuses a token accepted before once the list drops it, and a near miss of a token it knows', async () => {
    const other = `other-token-${crypto.randomUUID()}`
    const f = await proxyFixture()
    const both = {
      ...f.env,
      KEYLINE_CLIENT_TOKENS: `${f.clientToken},sha256:${await sha256Hex(other)}`,
    }
    const as = (token: string) => ({ headers: { authorization: `Bearer ${token}` } })
    // Accepted again and again (the second time from its remembered digest)...
    for (let i = 0; i < 3; i++)
      expect((await f.call('/v1/models', as(other), both)).status).toBe(200)
    // ...while a token one character off is still refused...
    expect((await f.call('/v1/models', as(`${other.slice(0, -1)}x`), both)).status).toBe(401)
    // ...and once the list no longer holds it, it is refused from the next request on.
    const without = { ...f.env, KEYLINE_CLIENT_TOKENS: f.clientToken }
    expect((await f.call('/v1/models', as(other), without)).status).toBe(401)
    expect((await f.call('/v1/models', as(f.clientToken), without)).status).toBe(200)
  })

  it('treats a malformed entry as no tokens at all', async () => {
    const f = await proxyFixture()
    const env = { ...f.env, KEYLINE_CLIENT_TOKENS: `${f.clientToken},sha256:xyz` }
    const res = await f.call('/v1/models', {}, env)
    expect(res.status).toBe(401)
    expect(await res.text()).toContain('sha256:<64 hex digits>')
  })

  it('never forwards the client credentials, cookies or hop-by-hop headers', async () => {
    const f = await proxyFixture()
    const res = await f.messages(MESSAGE, {
      'x-api-key': 'client-side-key-should-stay',
      cookie: 'session=abc',
      'proxy-authorization': 'Basic Zm9vOmJhcg==',
      connection: 'keep-alive, x-custom',
      'x-custom': 'hop',
      'anthropic-beta': 'tools-2024-04-04',
    })
    expect(res.status).toBe(200)
    const [seen] = await f.anthropic.requests()
    expect(seen?.headers['x-api-key']).toBe(f.keys.anthropic.apiKey)
    expect(seen?.headers['anthropic-beta']).toBe('tools-2024-04-04')
    const all = JSON.stringify(seen?.headers)
    expect(all).not.toContain(f.clientToken)
    expect(all).not.toContain('client-side-key-should-stay')
    for (const name of ['authorization', 'cookie', 'proxy-authorization', 'x-custom']) {
      expect(seen?.headers[name]).toBeUndefined()
    }
  })
})

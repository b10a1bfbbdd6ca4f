import { describe, expect, it } from 'vitest'
import { createApp } from '../../src/app.ts'
import { bindingsOnly } from '../../src/env.ts'
import { fingerprint } from '../../src/secrets/fingerprint.ts'

const upstreamCalls: string[] = []
const recordingFetch = (async (input: string | URL | Request) => {
  upstreamCalls.push(String(input instanceof Request ? input.url : input))
  return new Response(JSON.stringify({ data: [] }), {
    headers: { 'content-type': 'application/json' },
  })
}) as typeof fetch

const env = {
  ADMIN_TOKEN: `admin-token-${crypto.randomUUID()}`,
  KEYLINE_CLIENT_TOKENS: `client-token-${crypto.randomUUID()}`,
  ANTHROPIC_API_KEY: `sk-ant-test-${crypto.randomUUID()}`,
  FYERS_CLIENT_ID: 'TEST-100',
  FYERS_ACCESS_TOKEN: `test-token-${crypto.randomUUID()}`,
}
const newApp = () =>
  createApp({ env: bindingsOnly, fetch: recordingFetch, admin: { log: () => {} } })
/** Each request on a fresh app, so the admin failure limiter (429) never hides the answer. */
const request = async (path: string, init: RequestInit = {}) =>
  newApp().request(`http://keyline.test${path}`, init, env)

const variants = (prefix: string, rest: string): string[] => {
  const [first, ...others] = prefix.slice(1)
  const encodedFirst = `%${(first ?? '').charCodeAt(0).toString(16)}${others.join('')}`
  return [
    `${prefix}${rest}`,
    `/${prefix}${rest}`,
    `${prefix}/${rest}`,
    `${prefix.toUpperCase()}${rest}`,
    `/${prefix.slice(1, 2).toUpperCase()}${prefix.slice(2)}${rest}`,
    `/${encodedFirst}${rest}`,
    `/${encodedFirst.toUpperCase()}${rest}`,
    `${prefix}${rest.replaceAll('/', '%2F')}`,
    `${prefix}${rest.replaceAll('/', '%2f')}`,
    `${prefix}${rest}/`,
    `${prefix}/.${rest}`,
    `${prefix}/x/..${rest}`,
    `${prefix}%2F..%2F${prefix.slice(1)}${rest}`,
    `${prefix}${rest};x=1`,
  ]
}

describe('no route is reachable around its middleware', () => {
  it.each(variants('/admin', '/keys/status'))('GET %s needs the admin token', async (path) => {
    const res = await request(path)
    expect([401, 404]).toContain(res.status)
    const text = await res.text()
    expect(text).not.toContain('providers')
    // The key, or the status page's fingerprint of it (`…` and its last 4): not its last 4
    // alone, which a random request id in the 401 body can hold by chance.
    expect(text).not.toContain(env.ANTHROPIC_API_KEY)
    expect(text).not.toContain(fingerprint(env.ANTHROPIC_API_KEY))
  })

  it.each(variants('/admin', '/keys/reload'))('POST %s needs the admin token', async (path) => {
    expect([401, 404]).toContain((await request(path, { method: 'POST' })).status)
  })

  it.each([...variants('/v1', '/models'), ...variants('/v1', '/quotes?symbols=NSE:SBIN-EQ')])(
    'GET %s needs a client token and calls no upstream',
    async (path) => {
      upstreamCalls.length = 0
      const res = await request(path)
      expect([401, 404]).toContain(res.status)
      expect(upstreamCalls).toEqual([])
    }
  )

  it('the canonical paths do work with the right tokens', async () => {
    const admin = await request('/admin/keys/status', {
      headers: { authorization: `Bearer ${env.ADMIN_TOKEN}` },
    })
    expect(admin.status).toBe(200)
    upstreamCalls.length = 0
    const models = await request('/v1/models', {
      headers: { authorization: `Bearer ${env.KEYLINE_CLIENT_TOKENS}` },
    })
    expect(models.status).toBe(200)
    expect(upstreamCalls).toHaveLength(1)
  })
})

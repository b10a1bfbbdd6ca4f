import { describe, expect, it } from 'vitest'
import { NextSecretValidator } from '../../src/rotation/next-validator.ts'
import { SecretRegistry } from '../../src/secrets/registry.ts'
import { randomValue } from './admin-harness.ts'

const fyersEnv = () => ({
  FYERS_CLIENT_ID: randomValue('cid', 12),
  FYERS_ACCESS_TOKEN: randomValue('current'),
  FYERS_ACCESS_TOKEN_NEW: randomValue('next'),
  FYERS_BASE_URL: 'https://fyers.example',
})

const answering = (respond: (headers: Headers) => Response | Promise<Response>) => {
  const seen: { url: string; headers: Headers; redirect?: RequestRedirect }[] = []
  const fetch = (async (input: RequestInfo | URL, init?: RequestInit) => {
    const headers = new Headers(init?.headers)
    seen.push({ url: String(input), headers, redirect: init?.redirect })
    return respond(headers)
  }) as typeof globalThis.fetch
  return { fetch, seen }
}

describe('NextSecretValidator', () => {
  it('sends Authorization <client_id>:<next token> to Fyers and needs s == "ok"', async () => {
    const env = fyersEnv()
    const upstream = answering(() => Response.json({ s: 'ok', code: 200 }))
    const validator = new NextSecretValidator({ fetch: upstream.fetch })
    const snapshot = await new SecretRegistry().resolveProvider(env, 'fyers')
    expect(await validator.validate(snapshot)).toMatchObject({ state: 'valid' })
    expect(upstream.seen[0]?.url).toBe('https://fyers.example/api/v3/profile')
    expect(upstream.seen[0]?.headers.get('authorization')).toBe(
      `${env.FYERS_CLIENT_ID}:${env.FYERS_ACCESS_TOKEN_NEW}`
    )
    expect(upstream.seen[0]?.redirect).toBe('manual')
  })

  it('reads Fyers rejections answered as HTTP 200 as invalid, rate limits as unknown', async () => {
    const env = fyersEnv()
    const snapshot = await new SecretRegistry().resolveProvider(env, 'fyers')
    const rejected = new NextSecretValidator({
      fetch: answering(() => Response.json({ s: 'error', code: -15, message: 'x' })).fetch,
    })
    expect(await rejected.validate(snapshot)).toMatchObject({
      state: 'invalid',
      reason: 'fyers_code_-15',
    })
    const limited = new NextSecretValidator({
      fetch: answering(() => Response.json({ s: 'error', code: -353 })).fetch,
    })
    expect(await limited.validate(snapshot)).toMatchObject({
      state: 'unknown',
      reason: 'fyers_code_-353',
    })
  })

  it('reports a redirect, a timeout and a network error without calling them valid', async () => {
    const env = {
      ANTHROPIC_API_KEY_NEW: randomValue('next'),
      ANTHROPIC_BASE_URL: 'https://a.example',
    }
    const snapshot = await new SecretRegistry().resolveProvider(env, 'anthropic')
    const redirect = new NextSecretValidator({
      fetch: answering(() => new Response(null, { status: 302, headers: { location: '/x' } }))
        .fetch,
    })
    expect(await redirect.validate(snapshot)).toMatchObject({
      state: 'invalid',
      reason: 'http_302',
    })
    const slow = new NextSecretValidator({
      timeoutMs: 20,
      fetch: ((_: unknown, init?: RequestInit) =>
        new Promise((_resolve, reject) =>
          init?.signal?.addEventListener('abort', () => reject(new Error('aborted')))
        )) as typeof fetch,
    })
    expect(await slow.validate(snapshot)).toMatchObject({ state: 'unknown', reason: 'timeout' })
    const down = new NextSecretValidator({
      fetch: (() => Promise.reject(new TypeError('fetch failed'))) as typeof fetch,
    })
    expect(await down.validate(snapshot)).toMatchObject({
      state: 'unknown',
      reason: 'network_error',
    })
  })

  it('asks again after retryMs when the outcome was unknown, and shares concurrent calls', async () => {
    let now = 0
    let calls = 0
    const env = { ANTHROPIC_API_KEY_NEW: randomValue('next') }
    const snapshot = await new SecretRegistry().resolveProvider(env, 'anthropic')
    const validator = new NextSecretValidator({
      now: () => now,
      retryMs: 1000,
      fetch: (async () => {
        calls++
        return new Response(null, { status: 529 })
      }) as typeof fetch,
    })
    await Promise.all([validator.validate(snapshot), validator.validate(snapshot)])
    expect(calls).toBe(1)
    await validator.validate(snapshot)
    expect(calls).toBe(1)
    now += 1000
    await validator.validate(snapshot)
    expect(calls).toBe(2)
  })

  it('rejects bad options when constructed', () => {
    expect(() => new NextSecretValidator({ timeoutMs: 0 })).toThrow(TypeError)
    expect(() => new NextSecretValidator({ retryMs: Number.NaN })).toThrow(TypeError)
  })
})

import { describe, expect, it } from 'vitest'
import { FYERS_AUTH_CODES } from '../../src/catalog/fyers.ts'
import { proxyFixture } from './fixture.ts'

type ErrorBody = {
  error: { type: string; message: string; fyers_code?: number; invalid_symbols?: string[] }
}

describe('GET /v1/quotes', () => {
  it("returns Fyers' envelope, calling Fyers with client_id:token", async () => {
    const f = await proxyFixture()
    const res = await f.call('/v1/quotes?symbols=NSE:SBIN-EQ,NSE:TCS-EQ')
    expect(res.status).toBe(200)
    const body = (await res.json()) as {
      s: string
      d: { n: string; s: string; v: { lp: number } }[]
    }
    expect(body.s).toBe('ok')
    expect(body.d.map((q) => q.n)).toEqual(['NSE:SBIN-EQ', 'NSE:TCS-EQ'])
    expect(typeof body.d[0]?.v.lp).toBe('number')
    const [seen] = await f.fyers.requests()
    expect(seen?.path).toBe('/data/quotes')
    expect(seen?.query.symbols).toBe('NSE:SBIN-EQ,NSE:TCS-EQ')
    expect(seen?.headers.authorization).toBe(`${f.keys.fyers.clientId}:${f.keys.fyers.accessToken}`)
    expect(JSON.stringify(seen?.headers)).not.toContain(f.clientToken)
  })

  it('answers 400 naming the bad symbols, without calling Fyers', async () => {
    const f = await proxyFixture()
    const res = await f.call('/v1/quotes?symbols=NSE:SBIN-EQ,sbin,NSE:,DROP TABLE')
    expect(res.status).toBe(400)
    const body = (await res.json()) as ErrorBody
    expect(body.error.invalid_symbols).toEqual(['sbin', 'NSE:', 'DROP TABLE'])
    for (const query of [
      '',
      '?symbols=',
      `?symbols=${Array.from({ length: 51 }, (_, i) => `NSE:S${i}-EQ`).join(',')}`,
    ]) {
      expect((await f.call(`/v1/quotes${query}`)).status).toBe(400)
    }
    expect(await f.fyers.requests()).toHaveLength(0)
  })

  it('flags per-symbol errors in the envelope', async () => {
    const f = await proxyFixture()
    const res = await f.call('/v1/quotes?symbols=NSE:SBIN-EQ,NSE:NOPE-EQ')
    expect(res.status).toBe(200)
    expect(res.headers.get('keyline-quote-errors')).toBe('1')
    const body = (await res.json()) as { d: { s: string }[] }
    expect(body.d.map((q) => q.s)).toEqual(['ok', 'error'])
  })

  for (const code of FYERS_AUTH_CODES) {
    for (const status of [200, 401]) {
      it(`turns a rejected token (code ${code}, HTTP ${status}) into upstream_auth_failed with the code`, async () => {
        const f = await proxyFixture()
        await f.fyers.fault({ kind: 'status', status, code })
        const res = await f.call('/v1/quotes?symbols=NSE:SBIN-EQ')
        expect(res.status).toBe(502)
        const body = (await res.json()) as ErrorBody
        expect(body.error).toMatchObject({ type: 'upstream_auth_failed', fyers_code: code })
        expect(body.error.message).toContain('FYERS_ACCESS_TOKEN')
      })
    }

    it(`fails over to FYERS_ACCESS_TOKEN_NEW on code ${code}`, async () => {
      const next = `test-token-next-${crypto.randomUUID()}`
      const f = await proxyFixture({ FYERS_ACCESS_TOKEN_NEW: next })
      // The stub now rejects the current token with `code` and accepts only the next one.
      await f.fyers.keys({ replace: [next], authErrorCode: code })
      const res = await f.call('/v1/quotes?symbols=NSE:SBIN-EQ')
      expect(res.status).toBe(200)
      expect(res.headers.get('keyline-key-slot')).toBe('next')
      const sent = (await f.fyers.requests()).map((r) => r.headers.authorization?.split(':')[1])
      expect(sent).toEqual([f.keys.fyers.accessToken, next])
    })
  }

  it('turns rate limiting (code -353, HTTP 200 or 429) into a 429', async () => {
    const f = await proxyFixture({}, { retry: { maxRetries: 0 } })
    await f.fyers.fault({ kind: 'status', status: 200, code: -353 })
    expect((await f.call('/v1/quotes?symbols=NSE:SBIN-EQ')).status).toBe(429)
    await f.fyers.fault({ kind: 'status', status: 429, retryAfter: 7 })
    const res = await f.call('/v1/quotes?symbols=NSE:SBIN-EQ')
    expect(res.status).toBe(429)
    expect(res.headers.get('retry-after')).toBe('7')
    expect(((await res.json()) as ErrorBody).error).toMatchObject({
      type: 'rate_limited',
      fyers_code: -353,
    })
  })

  it('retries a 500 and a reset, then succeeds', async () => {
    const f = await proxyFixture()
    await f.fyers.fault({ kind: 'status', status: 500 }, { kind: 'reset' })
    expect((await f.call('/v1/quotes?symbols=NSE:SBIN-EQ')).status).toBe(200)
    expect(await f.fyers.requests()).toHaveLength(3)
  })

  it('answers 502 for a malformed answer and never follows a redirect', async () => {
    const f = await proxyFixture()
    await f.fyers.fault({ kind: 'malformed' })
    expect((await f.call('/v1/quotes?symbols=NSE:SBIN-EQ')).status).toBe(502)
    await f.fyers.fault({ kind: 'redirect', target: 'host' })
    const res = await f.call('/v1/quotes?symbols=NSE:SBIN-EQ')
    expect(res.status).toBe(502)
    expect(((await res.json()) as ErrorBody).error.type).toBe('upstream_redirect')
    expect((await f.fyers.state()).evilHits).toBe(0)
  })

  it('fails over to FYERS_ACCESS_TOKEN_NEW when the token is rejected', async () => {
    const next = `test-token-next-${crypto.randomUUID()}`
    const f = await proxyFixture({ FYERS_ACCESS_TOKEN_NEW: next })
    await f.fyers.keys({ replace: [next] })
    const res = await f.call('/v1/quotes?symbols=NSE:SBIN-EQ')
    expect(res.status).toBe(200)
    expect(res.headers.get('keyline-key-slot')).toBe('next')
    expect((await f.call('/v1/quotes?symbols=NSE:SBIN-EQ')).status).toBe(200)
    const sent = (await f.fyers.requests()).map((r) => r.headers.authorization?.split(':')[1])
    expect(sent).toEqual([f.keys.fyers.accessToken, next, next])
  })

  it('answers 503 naming the variables when Fyers is not configured', async () => {
    const f = await proxyFixture({ FYERS_CLIENT_ID: '', FYERS_ACCESS_TOKEN: 'changeme' })
    const res = await f.call('/v1/quotes?symbols=NSE:SBIN-EQ')
    expect(res.status).toBe(503)
    const body = (await res.json()) as ErrorBody
    expect(body.error.type).toBe('provider_not_configured')
    expect(body.error.message).toContain('FYERS_CLIENT_ID')
    expect(body.error.message).toContain('FYERS_ACCESS_TOKEN')
  })

  it('answers 504 timeout_error when Fyers sends headers, then stalls mid-body', async () => {
    const stalling = (async () =>
      new Response(
        new ReadableStream({
          start(controller) {
            controller.enqueue(new TextEncoder().encode('{"s":"ok","code":200,'))
          },
        }),
        { headers: { 'content-type': 'application/json' } }
      )) as unknown as typeof fetch
    const f = await proxyFixture({}, { fetch: stalling, retry: { idleTimeoutMs: 200 } })
    const started = Date.now()
    const res = await f.call('/v1/quotes?symbols=NSE:SBIN-EQ')
    expect(res.status).toBe(504)
    expect(((await res.json()) as ErrorBody).error.type).toBe('timeout_error')
    expect(Date.now() - started).toBeLessThan(2000)
  })
})

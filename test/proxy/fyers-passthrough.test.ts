import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { resetTelemetryState } from '../../src/telemetry/instruments.ts'
import { STUB_ORDER as ORDER } from '../stubs/fyers-data.ts'
import { installTestMetrics, type TestMetrics } from '../unit/telemetry/collect.ts'
import { proxyFixture } from './fixture.ts'

let m: TestMetrics
beforeEach(() => {
  resetTelemetryState()
  m = installTestMetrics()
})
afterEach(() => m.shutdown())

type ErrorBody = { error: { type: string; message: string; operation?: string } }

/** Every read path of the official SDK, with its query, and the operation keyline names it. */
const READS: [path: string, operation: string][] = [
  ['/data/quotes?symbols=NSE%3ASBIN-EQ%2CNSE%3ATCS-EQ', 'quotes'],
  ['/data/depth?symbol=NSE%3ASBIN-EQ&ohlcv_flag=1', 'depth'],
  [
    '/data/history?symbol=NSE%3ASBIN-EQ&resolution=D&date_format=0&range_from=1733011200&range_to=1733184000&cont_flag=1',
    'history',
  ],
  ['/data/marketStatus', 'market_status'],
  ['/api/v3/profile', 'profile'],
  ['/api/v3/funds', 'funds'],
  ['/api/v3/holdings', 'holdings'],
  ['/api/v3/positions', 'positions'],
  ['/api/v3/orders', 'orders'],
  ['/api/v3/tradebook', 'tradebook'],
]

const post = (body: unknown, method = 'POST'): RequestInit => ({
  method,
  headers: { 'content-type': 'application/json' },
  body: JSON.stringify(body),
})

describe('/fyers/*: reads', () => {
  it('forwards every read path and query unchanged, with appId:token and version 2.0', async () => {
    const f = await proxyFixture()
    for (const [path] of READS) {
      const res = await f.call(`/fyers${path}`, {
        headers: {
          authorization: `Bearer ${f.clientToken}`,
          'x-api-key': 'client-own-key-1234567890',
          cookie: 'session=abcdef123456',
          connection: 'x-private',
          'x-private': 'hop-by-hop',
        },
      })
      expect(res.status, path).toBe(200)
      expect(((await res.json()) as { s: string }).s, path).toBe('ok')
    }
    const seen = await f.fyers.requests()
    expect(seen.map((r) => `${r.method} ${r.path}${r.search}`)).toEqual(
      READS.map(([path]) => `GET ${path}`)
    )
    for (const r of seen) {
      expect(r.headers.authorization).toBe(`${f.keys.fyers.clientId}:${f.keys.fyers.accessToken}`)
      expect(r.headers.version).toBe('2.0')
      expect(r.headers).not.toHaveProperty('x-api-key')
      expect(r.headers).not.toHaveProperty('cookie')
      expect(r.headers).not.toHaveProperty('x-private')
      expect(JSON.stringify(r.headers)).not.toContain(f.clientToken)
    }
  })

  it('counts each call under its operation', async () => {
    const f = await proxyFixture()
    for (const [path] of READS) expect((await f.call(`/fyers${path}`)).status).toBe(200)
    const points = await m.points('keyline.fyers.quote.requests')
    const byOperation = Object.fromEntries(
      points.map((p) => [p.attributes['keyline.operation'], p.value])
    )
    expect(byOperation).toEqual(Object.fromEntries(READS.map(([, op]) => [op, 1])))
  })

  it('takes the client token as the Fyers SDK sends it: Authorization: <app id>:<token>', async () => {
    const f = await proxyFixture()
    const sdk = { headers: { authorization: `ANYAPP-100:${f.clientToken}` } }
    expect((await f.call('/fyers/api/v3/funds', sdk)).status).toBe(200)
    const [seen] = await f.fyers.requests()
    expect(seen?.headers.authorization).toBe(`${f.keys.fyers.clientId}:${f.keys.fyers.accessToken}`)
    const wrong = await f.call('/fyers/api/v3/funds', {
      headers: { authorization: `ANYAPP-100:not-the-client-token-000` },
    })
    expect(wrong.status).toBe(401)
    // Only on /fyers/*: the Anthropic routes and /v1/quotes keep their forms.
    expect((await f.call('/v1/quotes?symbols=NSE:SBIN-EQ', sdk)).status).toBe(401)
    expect(await f.fyers.requests()).toHaveLength(1)
  })

  it('passes symbols through as the client wrote them and relays what Fyers answers', async () => {
    const f = await proxyFixture()
    const res = await f.call('/fyers/data/quotes?symbols=nse:sbin-eq')
    expect(res.status).toBe(200)
    const body = (await res.json()) as { d: { n: string; s: string }[] }
    expect(body.d).toMatchObject([{ n: 'nse:sbin-eq', s: 'error' }])
    const [seen] = await f.fyers.requests()
    expect(seen?.query.symbols).toBe('nse:sbin-eq')
  })

  it("relays Fyers' own error for the client's request, and maps a rejected token as quotes do", async () => {
    const f = await proxyFixture()
    const bad = await f.call('/fyers/data/history?symbol=NSE:SBIN-EQ')
    expect(bad.status).toBe(400)
    expect(await bad.json()).toMatchObject({ s: 'error', code: -50 })
    await f.fyers.fault({ kind: 'status', status: 401, code: -16 })
    const rejected = await f.call('/fyers/api/v3/funds')
    expect(rejected.status).toBe(502)
    expect(((await rejected.json()) as ErrorBody).error.type).toBe('upstream_auth_failed')
  })

  it('fails over to FYERS_ACCESS_TOKEN_NEW and retries a read on a 503', async () => {
    const next = `t${crypto.randomUUID().replaceAll('-', '')}`
    const f = await proxyFixture({ FYERS_ACCESS_TOKEN_NEW: next })
    await f.fyers.keys({ replace: [next] })
    const res = await f.call('/fyers/api/v3/holdings')
    expect(res.status).toBe(200)
    expect(res.headers.get('keyline-key-slot')).toBe('next')
    await f.fyers.reset()
    await f.fyers.keys({ accept: [next] })
    await f.fyers.fault({ kind: 'status', status: 503 })
    expect((await f.call('/fyers/api/v3/holdings')).status).toBe(200)
    expect(await f.fyers.requests()).toHaveLength(2)
  })

  it('replaces a secret Fyers echoes by its fingerprint', async () => {
    const f = await proxyFixture()
    await f.fyers.fault({ kind: 'echo', status: 400 })
    const res = await f.call('/fyers/api/v3/funds')
    const text = await res.text()
    expect(text).not.toContain(f.keys.fyers.accessToken)
    expect(text).not.toContain(f.keys.fyers.accessToken.slice(0, 12))
  })
})

describe('/fyers/*: paths that climb out never reach Fyers', () => {
  for (const path of [
    '/fyers/data/%2e%2e/%2e%2e/admin/keys/status',
    '/fyers/data/%2e%2e/%2e%2e/%2e%2e/admin/keys/status',
    '/fyers/%2e%2e/x/api/v3/funds',
    '/fyers/data%2fquotes?symbols=NSE:SBIN-EQ',
    '/fyers/data%2Fquotes',
    '/fyers//evil.example/data/quotes',
    '/fyers/%2F%2Fevil.example/x',
    '/fyers/data/%5c..%5cadmin',
    '/fyers/',
    '/fyers',
  ]) {
    it(`refuses ${path}`, async () => {
      const f = await proxyFixture()
      const res = await f.call(path)
      expect([400, 401, 404]).toContain(res.status)
      expect(await f.fyers.requests()).toHaveLength(0)
    })
  }

  it('never forwards the token calls or logout', async () => {
    const f = await proxyFixture({ KEYLINE_FYERS_TRADING: 'on' })
    for (const path of ['/api/v3/logout', '/api/v3/validate-refresh-token']) {
      const res = await f.call(`/fyers${path}`, post({}))
      expect(res.status).toBe(403)
    }
    expect((await f.call('/fyers/api/v3/generate-authcode?client_id=x')).status).toBe(403)
    expect(await f.fyers.requests()).toHaveLength(0)
  })

  it('never forwards them in another case or another API version either', async () => {
    const f = await proxyFixture({ KEYLINE_FYERS_TRADING: 'on' })
    for (const path of [
      '/api/v3/LOGOUT',
      '/api/v2/logout',
      '/API/V3/Logout',
      '/api/V3/validate-refresh-token',
      '/api/v3/Validate-AuthCode',
    ]) {
      const res = await f.call(`/fyers${path}`, post({}))
      expect(res.status, path).toBe(403)
    }
    expect((await f.call('/fyers/api/v2/GENERATE-AUTHCODE?client_id=x')).status).toBe(403)
    expect(await f.fyers.requests()).toHaveLength(0)
  })
})

describe('/fyers/*: trading', () => {
  const TRADES: [method: string, path: string, operation: string][] = [
    ['POST', '/api/v3/orders/sync', 'place_order'],
    ['PATCH', '/api/v3/orders/sync', 'modify_order'],
    ['DELETE', '/api/v3/orders/sync', 'cancel_order'],
    ['POST', '/api/v3/multi-order/sync', 'multi_order'],
    ['POST', '/api/v3/gtt/orders/sync', 'gtt_order'],
    ['POST', '/api/v3/positions', 'convert_position'],
    ['DELETE', '/api/v3/positions', 'exit_position'],
    ['PUT', '/api/v3/anything-new', '_OTHER'],
  ]

  it('is off by default: every trading call is a 403 naming KEYLINE_FYERS_TRADING=on', async () => {
    const f = await proxyFixture()
    for (const [method, path, operation] of TRADES) {
      const res = await f.call(`/fyers${path}`, post(ORDER, method))
      expect(res.status, `${method} ${path}`).toBe(403)
      const body = (await res.json()) as ErrorBody
      expect(body.error.type).toBe('trading_disabled')
      expect(body.error.message).toContain('KEYLINE_FYERS_TRADING=on')
      expect(body.error.message).toContain(`to allow ${operation}`)
    }
    expect(await f.fyers.requests()).toHaveLength(0)
  })

  it('with KEYLINE_FYERS_TRADING=on forwards the order as it came, and never retries it', async () => {
    const f = await proxyFixture({ KEYLINE_FYERS_TRADING: 'on' })
    const res = await f.call('/fyers/api/v3/orders/sync', post(ORDER))
    expect(res.status).toBe(200)
    expect(await res.json()).toMatchObject({ s: 'ok', id: '25120300000002' })
    const [seen] = await f.fyers.requests()
    expect(seen).toMatchObject({ method: 'POST', path: '/api/v3/orders/sync' })
    expect(JSON.parse(seen?.body ?? '')).toEqual(ORDER)
    expect(seen?.headers['content-type']).toBe('application/json')
    expect(seen?.headers.version).toBe('2.0')

    await f.fyers.reset()
    await f.fyers.fault({ kind: 'status', status: 503 })
    const failed = await f.call('/fyers/api/v3/orders/sync', post(ORDER))
    expect(failed.status).toBe(502)
    expect(await f.fyers.requests()).toHaveLength(1)
  })

  it('with KEYLINE_FYERS_TRADING_CLIENTS lets only the named client tokens trade', async () => {
    const desk = `desk-token-${crypto.randomUUID()}`
    const reports = `reports-token-${crypto.randomUUID()}`
    const f = await proxyFixture({
      KEYLINE_FYERS_TRADING: 'on',
      KEYLINE_FYERS_TRADING_CLIENTS: 'desk, ops',
      KEYLINE_CLIENT_TOKENS: `desk=${desk},reports=${reports}`,
    })
    const as = (token: string, init: RequestInit): RequestInit => ({
      ...init,
      headers: { ...(init.headers as Record<string, string>), authorization: `Bearer ${token}` },
    })
    const refused = await f.call('/fyers/api/v3/orders/sync', as(reports, post(ORDER)))
    expect(refused.status).toBe(403)
    expect(((await refused.json()) as ErrorBody).error).toMatchObject({
      type: 'trading_not_allowed',
    })
    expect((await f.call('/fyers/api/v3/funds', as(reports, {}))).status).toBe(200)
    expect((await f.call('/fyers/api/v3/orders/sync', as(desk, post(ORDER)))).status).toBe(200)
    expect((await f.fyers.requests()).map((r) => r.method)).toEqual(['GET', 'POST'])
  })

  it('treats a trade in another case as that trade: allow-listed and audited under its name', async () => {
    const desk = `desk-token-${crypto.randomUUID()}`
    const reports = `reports-token-${crypto.randomUUID()}`
    const f = await proxyFixture({
      KEYLINE_FYERS_TRADING: 'on',
      KEYLINE_FYERS_TRADING_CLIENTS: 'desk',
      KEYLINE_CLIENT_TOKENS: `desk=${desk},reports=${reports}`,
    })
    const as = (token: string, init: RequestInit): RequestInit => ({
      ...init,
      headers: { ...(init.headers as Record<string, string>), authorization: `Bearer ${token}` },
    })
    for (const path of ['/API/V3/ORDERS/SYNC', '/api/V3/Orders/Sync']) {
      const refused = await f.call(`/fyers${path}`, as(reports, post(ORDER)))
      expect(refused.status, path).toBe(403)
      expect(((await refused.json()) as ErrorBody).error.type).toBe('trading_not_allowed')
    }
    expect(await f.fyers.requests()).toHaveLength(0)
    const audit = f.logs.filter((l) => l.msg === 'fyers trade')
    expect(audit).toMatchObject([
      { client: 'reports', operation: 'place_order', result: 'rejected' },
      { client: 'reports', operation: 'place_order', result: 'rejected' },
    ])
  })

  it('audits every trading call and records it as a rotation event: who and what, no amounts', async () => {
    const admin = `admin-token-${crypto.randomUUID()}`
    const desk = `desk-token-${crypto.randomUUID()}`
    const f = await proxyFixture({ ADMIN_TOKEN: admin, KEYLINE_CLIENT_TOKENS: `desk=${desk}` })
    const auth = { authorization: `Bearer ${desk}`, 'content-type': 'application/json' }
    const order = { method: 'POST', headers: auth, body: JSON.stringify(ORDER) }
    expect((await f.call('/fyers/api/v3/orders/sync', order)).status).toBe(403)
    const on = { ...f.env, KEYLINE_FYERS_TRADING: 'on', KEYLINE_CLIENT_TOKENS: `desk=${desk}` }
    expect((await f.call('/fyers/api/v3/orders/sync', order, on)).status).toBe(200)

    const audit = f.logs.filter((l) => l.msg === 'fyers trade')
    expect(audit).toMatchObject([
      { client: 'desk', operation: 'place_order', result: 'rejected', reason: 'trading_disabled' },
      { client: 'desk', operation: 'place_order', method: 'POST', result: 'ok' },
    ])
    const events = await f.call('/admin/events', { headers: { authorization: `Bearer ${admin}` } })
    const text = await events.text()
    const listed = (JSON.parse(text) as { events: Record<string, unknown>[] }).events
    expect(listed.filter((e) => e.action === 'fyers-trade')).toMatchObject([
      { who: 'client:desk', provider: 'fyers', result: 'ok' },
      { who: 'client:desk', provider: 'fyers', result: 'rejected' },
    ])
    for (const leaked of [desk, f.keys.fyers.accessToken, '"qty"', 'NSE:SBIN-EQ']) {
      expect(text).not.toContain(leaked)
      expect(JSON.stringify(audit)).not.toContain(leaked)
    }
  })
})

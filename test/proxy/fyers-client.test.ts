import { Hono } from 'hono'
import { describe, expect, inject, it } from 'vitest'
import { onError, type SecretsVariables, secrets } from '../../src/index.ts'
import { createFyersClient, type Quote } from '../../src/providers/fyers/client.ts'
import { stubControl } from '../stubs/control.ts'
import { stubBindings } from '../stubs/fixtures.ts'
import { STUB_ORDER as ORDER } from '../stubs/fyers-data.ts'
import { FAST_RETRY } from './fixture.ts'

/** A user's app calling every read of `c.var.fyers`, and one that places an order. */
const userApp = () => {
  const app = new Hono<{ Variables: SecretsVariables }>()
  app.use(secrets({ retry: FAST_RETRY }))
  app.get('/reads', async (c) => {
    const fyers = c.var.fyers
    const quotes = await fyers.quotes(['NSE:SBIN-EQ'])
    const quote: Quote | undefined = quotes.d[0]?.v
    const lp: number | undefined = quote?.lp
    const depth = await fyers.depth(['NSE:SBIN-EQ'])
    const history = await fyers.history({
      symbol: 'NSE:SBIN-EQ',
      resolution: 'D',
      date_format: 0,
      range_from: 1733011200,
      range_to: 1733184000,
      cont_flag: 1,
    })
    const answers = await Promise.all([
      fyers.marketStatus(),
      fyers.profile(),
      fyers.funds(),
      fyers.holdings(),
      fyers.positions(),
      fyers.orders(),
      fyers.tradebook(),
    ])
    return c.json({
      lp,
      bids: depth.d['NSE:SBIN-EQ']?.bids.length,
      candles: history.candles.length,
      statuses: answers.map((a) => a.s),
      funds: answers[2].fund_limit[0]?.title,
    })
  })
  app.post('/order', async (c) => c.json(await c.var.fyers.placeOrder(ORDER)))
  app.onError(onError)
  return app
}

const setup = async () => {
  const keys = inject('stubKeys')
  const fyers = await stubControl(inject('stubs').fyers).session()
  const env = stubBindings(keys, { anthropic: 'http://127.0.0.1:9', fyers: fyers.url }, 'unused')
  return { app: userApp(), env, keys, fyers }
}

describe('c.var.fyers', () => {
  it('makes every read the official SDK makes, typed, with appId:token and version 2.0', async () => {
    const { app, env, keys, fyers } = await setup()
    const res = await app.request('/reads', {}, env)
    expect(res.status).toBe(200)
    expect(await res.json()).toEqual({
      lp: expect.any(Number),
      bids: 5,
      candles: 3,
      statuses: Array(7).fill('ok'),
      funds: 'Total Balance',
    })
    const seen = await fyers.requests()
    // The last seven run side by side: their order is the network's.
    expect(seen.map((r) => `${r.method} ${r.path}${r.search}`).sort()).toEqual(
      [
        'GET /data/quotes?symbols=NSE%3ASBIN-EQ',
        'GET /data/depth?symbol=NSE%3ASBIN-EQ&ohlcv_flag=1',
        'GET /data/history?symbol=NSE%3ASBIN-EQ&resolution=D&date_format=0&range_from=1733011200&range_to=1733184000&cont_flag=1',
        'GET /data/marketStatus',
        'GET /api/v3/profile',
        'GET /api/v3/funds',
        'GET /api/v3/holdings',
        'GET /api/v3/positions',
        'GET /api/v3/orders',
        'GET /api/v3/tradebook',
      ].sort()
    )
    for (const r of seen) {
      expect(r.headers.authorization).toBe(`${keys.fyers.clientId}:${keys.fyers.accessToken}`)
      expect(r.headers.version).toBe('2.0')
    }
  })

  it('places an order only with KEYLINE_FYERS_TRADING=on, never retried', async () => {
    const { app, env, fyers } = await setup()
    const off = await app.request('/order', { method: 'POST' }, env)
    expect(off.status).toBe(403)
    expect(((await off.json()) as { error: { type: string } }).error.type).toBe('trading_disabled')
    expect(await fyers.requests()).toHaveLength(0)
    const on = { ...env, KEYLINE_FYERS_TRADING: 'on' }
    const placed = await app.request('/order', { method: 'POST' }, on)
    expect(await placed.json()).toMatchObject({ s: 'ok', id: '25120300000002' })
    await fyers.fault({ kind: 'status', status: 503 })
    expect((await app.request('/order', { method: 'POST' }, on)).status).toBe(502)
    const sent = await fyers.requests()
    expect(sent.map((r) => `${r.method} ${r.path}`)).toEqual([
      'POST /api/v3/orders/sync',
      'POST /api/v3/orders/sync',
    ])
    expect(JSON.parse(sent[0]?.body ?? '')).toEqual(ORDER)
  })
})

describe('createFyersClient (keyline/clients/fyers)', () => {
  it('reads with version 2.0 and trades only with trading: true', async () => {
    const { keys, fyers } = await setup()
    const options = {
      clientId: keys.fyers.clientId,
      accessToken: keys.fyers.accessToken,
      baseUrl: fyers.url,
    }
    const client = createFyersClient(options)
    expect((await client.funds()).fund_limit.length).toBeGreaterThan(0)
    await expect(client.cancelOrder('25120300000001')).rejects.toThrow('trading: true')
    const trading = createFyersClient({ ...options, trading: true })
    expect(await trading.cancelOrder('25120300000001')).toMatchObject({ s: 'ok' })
    await trading.modifyOrder({ id: '25120300000001', qty: 2 })
    const conversion = {
      symbol: 'NSE:SBIN-EQ',
      positionSide: 1,
      convertQty: 1,
      convertFrom: 'INTRADAY',
      convertTo: 'CNC',
    } as const
    await trading.convertPosition(conversion)
    await trading.exitPositions({ id: 'NSE:SBIN-EQ-INTRADAY' })
    const sent = await fyers.requests()
    expect(sent.map((r) => `${r.method} ${r.path} ${r.body}`)).toEqual([
      'GET /api/v3/funds ',
      'DELETE /api/v3/orders/sync {"id":"25120300000001"}',
      'PATCH /api/v3/orders/sync {"id":"25120300000001","qty":2}',
      `POST /api/v3/positions ${JSON.stringify(conversion)}`,
      'DELETE /api/v3/positions {"id":"NSE:SBIN-EQ-INTRADAY"}',
    ])
    expect(sent[0]?.headers.version).toBe('2.0')
  })
})

/** Base prices of the symbols the Fyers stub knows; any other symbol is `Invalid symbol`. */
const BASE: Record<string, { lp: number; prev: number; fyToken: string; volume: number }> = {
  'NSE:SBIN-EQ': { lp: 812.35, prev: 805.1, fyToken: '10100000003045', volume: 12_845_310 },
  'NSE:TCS-EQ': { lp: 4125.6, prev: 4098.25, fyToken: '10100000011536', volume: 1_932_004 },
  'NSE:RELIANCE-EQ': { lp: 2950.4, prev: 2962, fyToken: '10100000002885', volume: 6_410_228 },
  'NSE:INFY-EQ': { lp: 1875.15, prev: 1860.3, fyToken: '10100000001594', volume: 5_120_774 },
  'NSE:HDFCBANK-EQ': { lp: 1650.8, prev: 1642, fyToken: '10100000001333', volume: 9_871_442 },
  'NSE:NIFTY50-INDEX': { lp: 24350.5, prev: 24280.1, fyToken: '101000000026000', volume: 0 },
  'BSE:SENSEX-INDEX': { lp: 80125.3, prev: 79950.6, fyToken: '12000000000001', volume: 0 },
}

/** Symbols the stub answers with values. */
export const KNOWN_SYMBOLS: readonly string[] = Object.keys(BASE)

const round2 = (n: number) => Math.round(n * 100) / 100

/** One entry of `d` in a quotes answer: values for a known symbol, an error entry otherwise. */
export const quoteEntry = (symbol: string, now = Date.now()) => {
  const base = BASE[symbol]
  if (!base) return { n: symbol, s: 'error', v: { errmsg: 'Invalid symbol', code: -300 } }
  const [exchange = '', shortName = ''] = symbol.split(':')
  const ch = round2(base.lp - base.prev)
  return {
    n: symbol,
    s: 'ok',
    v: {
      ch,
      chp: round2((ch / base.prev) * 100),
      lp: base.lp,
      spread: 0.1,
      ask: round2(base.lp + 0.05),
      bid: round2(base.lp - 0.05),
      open_price: base.prev,
      high_price: round2(Math.max(base.lp, base.prev) * 1.004),
      low_price: round2(Math.min(base.lp, base.prev) * 0.996),
      prev_close_price: base.prev,
      atp: round2((base.lp + base.prev) / 2),
      volume: base.volume,
      short_name: shortName,
      exchange,
      description: symbol,
      original_name: symbol,
      symbol,
      fyToken: base.fyToken,
      tt: Math.floor(now / 1000),
    },
  }
}

/** `data` of `GET /api/v3/profile`. */
export const PROFILE = {
  fy_id: 'XX00000',
  name: 'TEST USER',
  image: null,
  display_name: null,
  email_id: 'test.user@example.invalid',
  PAN: 'XXXXX0000X',
  pin_change_date: '01-01-2025 00:00:00',
  pwd_change_date: null,
  mobile_number: '0000000000',
  totp: true,
  pwd_to_expire: 90,
  ddpi_enabled: false,
  mtf_enabled: false,
} as const

/** Fyers' message for a code. */
export const fyersMessageFor = (code: number): string =>
  ({
    [-8]: 'Your token has expired. Please generate a token',
    [-15]: 'Provided token is invalid',
    [-16]: 'Could not authenticate the user',
    [-353]: 'request limit reached',
    [-50]: 'Invalid input',
  })[code] ?? 'Something went wrong'

/** `d` of `GET /data/depth`: a five-level book for each known symbol. */
export const depthOf = (symbols: readonly string[], ohlcv: boolean) =>
  Object.fromEntries(
    symbols
      .filter((s) => BASE[s])
      .map((s) => {
        const { lp, prev, volume } = BASE[s] as (typeof BASE)[string]
        const levels = (sign: number) =>
          Array.from({ length: 5 }, (_, i) => ({
            price: round2(lp + sign * 0.05 * (i + 1)),
            volume: 100 * (i + 1),
            ord: i + 1,
          }))
        const extra = ohlcv
          ? { o: prev, h: round2(lp * 1.004), l: round2(lp * 0.996), c: prev, v: volume }
          : {}
        return [
          s,
          {
            totalbuyqty: 1500,
            totalsellqty: 1500,
            bids: levels(-1),
            ask: levels(1),
            ltp: lp,
            ch: round2(lp - prev),
            chp: round2(((lp - prev) / prev) * 100),
            ...extra,
          },
        ]
      })
  )

/** `candles` of `GET /data/history`: one a day from `from` to `to` (epoch seconds). */
export const candlesOf = (symbol: string, from: number, to: number) => {
  const base = BASE[symbol]
  if (!base) return undefined
  const candles: number[][] = []
  for (let t = from; t <= to && candles.length < 400; t += 86_400) {
    candles.push([
      t,
      base.prev,
      round2(base.lp * 1.01),
      round2(base.prev * 0.99),
      base.lp,
      base.volume,
    ])
  }
  return candles
}

/** The payloads of the account reads, keyed by their path. */
export const ACCOUNT: Record<string, Record<string, unknown>> = {
  '/data/marketStatus': {
    marketStatus: [
      { exchange: 10, market_type: 'NORMAL', segment: 10, status: 'OPEN' },
      { exchange: 12, market_type: 'NORMAL', segment: 10, status: 'OPEN' },
    ],
  },
  '/api/v3/funds': {
    fund_limit: [
      { id: 1, title: 'Total Balance', equityAmount: 100000, commodityAmount: 0 },
      { id: 10, title: 'Available Balance', equityAmount: 95000, commodityAmount: 0 },
    ],
  },
  '/api/v3/holdings': {
    holdings: [
      {
        symbol: 'NSE:SBIN-EQ',
        quantity: 10,
        costPrice: 780,
        ltp: 812.35,
        pl: 323.5,
        fyToken: '10100000003045',
      },
    ],
    overall: {
      count_total: 1,
      total_investment: 7800,
      total_current_value: 8123.5,
      total_pl: 323.5,
    },
  },
  '/api/v3/positions': {
    netPositions: [
      { symbol: 'NSE:TCS-EQ', id: 'NSE:TCS-EQ-INTRADAY', netQty: 2, ltp: 4125.6, pl: 54.7 },
    ],
    overall: { count_total: 1, count_open: 1, pl_total: 54.7 },
  },
  '/api/v3/orders': {
    orderBook: [
      { symbol: 'NSE:SBIN-EQ', id: '25120300000001', status: 2, qty: 1, side: 1, type: 2 },
    ],
  },
  '/api/v3/tradebook': {
    tradeBook: [
      { symbol: 'NSE:SBIN-EQ', orderNumber: '25120300000001', tradedQty: 1, tradePrice: 812.3 },
    ],
  },
}

/** A market order for one share, as Fyers' docs and SDK write one (`POST /api/v3/orders/sync`). */
export const STUB_ORDER = {
  symbol: 'NSE:SBIN-EQ',
  qty: 1,
  type: 2,
  side: 1,
  productType: 'INTRADAY',
  limitPrice: 0,
  stopPrice: 0,
  validity: 'DAY',
  disclosedQty: 0,
  offlineOrder: false,
} as const

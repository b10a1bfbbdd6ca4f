import { createRequire } from 'node:module'
import { connect } from 'node:net'
import { afterAll, beforeAll, expect, it } from 'vitest'
import { type StubControl, stubControl } from '../stubs/control.ts'
import { generateStubKeys, stubBindings, stubOptionsFor } from '../stubs/fixtures.ts'
import { startFyersStub } from '../stubs/fyers.ts'
import { STUB_ORDER as ORDER } from '../stubs/fyers-data.ts'
import type { StartedStub } from '../stubs/stub-server.ts'
import type { RecordedRequest } from '../stubs/types.ts'
import { describeRuntimes } from './harness/describe-runtimes.ts'

/** The official Fyers Node SDK (CommonJS): its client and the `Config` its URLs live in. */
const require = createRequire(import.meta.url)
type SdkCall = (request?: unknown) => Promise<Record<string, unknown>>
type Sdk = Record<
  | 'getQuotes'
  | 'getMarketDepth'
  | 'getHistory'
  | 'market_status'
  | 'get_profile'
  | 'get_funds'
  | 'get_holdings'
  | 'get_positions'
  | 'get_orders'
  | 'get_tradebook'
  | 'place_order',
  SdkCall
> & {
  setAppId(id: string): void
  setAccessToken(token: string): void
}
const { fyersModel } = require('fyers-api-v3') as {
  fyersModel: new (options: Record<string, unknown>) => Sdk
}
const { Config } = require('fyers-api-v3/config/config') as {
  Config: { SYNC_API: string; data_Api1: string }
}

const READER = `kl-reader-${crypto.randomUUID()}`
const DESK = `kl-desk-${crypto.randomUUID()}`
const keys = generateStubKeys()

let stub: StartedStub
/** The session the SDK calls directly, and one per runtime behind keyline. */
let direct: StubControl
const behind = new Map<string, StubControl>()

beforeAll(async () => {
  stub = await startFyersStub(stubOptionsFor(keys).fyers)
  direct = await stubControl(stub.url).session()
})
afterAll(async () => {
  await stub?.close()
})

/**
 * The SDK as its README sets it up, with its two `Config` URLs pointed at `base` (Fyers, or
 * `<keyline>/fyers`) and `token` as the access token.
 */
const sdkAt = (base: string, token: string): Sdk => {
  Config.SYNC_API = `${base}/api/v3`
  Config.data_Api1 = `${base}/data`
  const fyers = new fyersModel({ enableLogging: false })
  fyers.setAppId(keys.fyers.clientId)
  fyers.setAccessToken(token)
  return fyers
}

/** Each read the SDK offers, as its user calls it. */
const READS: [name: string, call: (sdk: Sdk) => Promise<Record<string, unknown>>][] = [
  ['getQuotes', (sdk) => sdk.getQuotes(['NSE:SBIN-EQ', 'NSE:TCS-EQ'])],
  ['getMarketDepth', (sdk) => sdk.getMarketDepth({ symbol: ['NSE:SBIN-EQ'], ohlcv_flag: 1 })],
  [
    'getHistory',
    (sdk) =>
      sdk.getHistory({
        symbol: 'NSE:SBIN-EQ',
        resolution: 'D',
        date_format: '0',
        range_from: '1733011200',
        range_to: '1733184000',
        cont_flag: '1',
      }),
  ],
  ['market_status', (sdk) => sdk.market_status()],
  ['get_profile', (sdk) => sdk.get_profile()],
  ['get_funds', (sdk) => sdk.get_funds()],
  ['get_holdings', (sdk) => sdk.get_holdings()],
  ['get_positions', (sdk) => sdk.get_positions()],
  ['get_orders', (sdk) => sdk.get_orders()],
  ['get_tradebook', (sdk) => sdk.get_tradebook()],
]

/** What Fyers reads of a request: method, path, query, its credential and version, the body. */
const wire = (r: RecordedRequest) => ({
  method: r.method,
  path: r.path,
  search: r.search,
  authorization: r.headers.authorization,
  version: r.headers.version,
  contentType: r.headers['content-type']?.split(';')[0],
  body: r.body,
})

/** Sends `GET <target>` as it is (no URL normalisation) and resolves with the status. */
const rawGet = (url: string, target: string, token: string): Promise<number> =>
  new Promise((resolve, reject) => {
    const { hostname, port } = new URL(url)
    const socket = connect(Number(port), hostname, () => {
      socket.write(
        `GET ${target} HTTP/1.1\r\nhost: ${hostname}:${port}\r\nauthorization: Bearer ${token}\r\nconnection: close\r\n\r\n`
      )
    })
    let head = ''
    socket.on('data', (chunk) => {
      head += chunk.toString('latin1')
      const status = /^HTTP\/1\.1 (\d{3})/.exec(head)
      if (status) {
        resolve(Number(status[1]))
        socket.destroy()
      }
    })
    socket.on('error', reject)
    socket.on('close', () => resolve(0))
  })

/**
 * The official `fyers-api-v3` SDK, its two `Config` URLs repointed at `<keyline>/fyers` and the
 * client token where it puts the access token, makes exactly the requests Fyers would have seen
 * from it directly (keyline swaps in the real token), on every runtime; trading is refused
 * unless switched on and the client is allowed.
 */
describeRuntimes(
  'the official Fyers SDK through keyline',
  (ctx) => {
    const session = () => behind.get(ctx.runtime) as StubControl

    for (const [name, call] of READS) {
      it(`${name}: the same request as the SDK sends Fyers directly`, async () => {
        await direct.reset()
        await session().reset()
        const straight = await call(sdkAt(direct.url, keys.fyers.accessToken))
        const through = await call(sdkAt(`${ctx.url}/fyers`, READER))
        expect(straight.s, JSON.stringify(straight)).toBe('ok')
        expect(through, ctx.server.output()).toMatchObject({ s: 'ok', code: straight.code })
        const [sent] = await direct.requests()
        const [relayed] = await session().requests()
        expect(sent && relayed).toBeTruthy()
        expect(wire(relayed as RecordedRequest)).toEqual(wire(sent as RecordedRequest))
        expect(JSON.stringify(relayed?.headers)).not.toContain(READER)
      })
    }

    it('place_order: refused for a client not allowed to trade, sent once for one that is', async () => {
      await direct.reset()
      await session().reset()
      const refused = await sdkAt(`${ctx.url}/fyers`, READER)
        .place_order(ORDER)
        .catch((error: unknown) => error as Record<string, unknown>)
      expect(refused).toMatchObject({ error: { type: 'trading_not_allowed' } })
      expect(await session().requests()).toHaveLength(0)

      const straight = await sdkAt(direct.url, keys.fyers.accessToken).place_order(ORDER)
      const through = await sdkAt(`${ctx.url}/fyers`, DESK).place_order(ORDER)
      expect(through).toEqual(straight)
      const [sent] = await direct.requests()
      const relayed = await session().requests()
      expect(relayed).toHaveLength(1)
      expect(wire(relayed[0] as RecordedRequest)).toEqual(wire(sent as RecordedRequest))
    })

    it('paths that climb out of /fyers never reach Fyers', async () => {
      await session().reset()
      for (const target of [
        '/fyers/../admin/keys/status',
        '/fyers/data/%2e%2e/%2e%2e/%2e%2e/admin/keys/status',
        '/fyers/data%2fquotes?symbols=NSE:SBIN-EQ',
        '/fyers/%2F%2Fevil.example/data/quotes',
        '/fyers//evil.example/data/quotes',
        '/fyers/data/..%5c..%5cadmin',
      ]) {
        const status = await rawGet(ctx.url, target, READER)
        expect([400, 401, 404], target).toContain(status)
      }
      const reached = (await session().requests()).map((r) => `${r.method} ${r.path}${r.search}`)
      expect(reached).toEqual([])
    })
  },
  {
    bindings: async ({ runtime }) => {
      const control = await stubControl(stub.url).session()
      behind.set(runtime, control)
      return {
        ...stubBindings(keys, { anthropic: 'http://127.0.0.1:9', fyers: control.url }, ''),
        KEYLINE_CLIENT_TOKENS: `reader=${READER},desk=${DESK}`,
        KEYLINE_FYERS_TRADING: 'on',
        KEYLINE_FYERS_TRADING_CLIENTS: 'desk',
      }
    },
  }
)

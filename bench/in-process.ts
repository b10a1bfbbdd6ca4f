/**
 * Benchmark 3, in process: `app.request('/v1/messages')` through keyline's `createApp()` against
 * the bare Hono proxy app, both with the same canned upstream `fetch` (it reads the request
 * body and answers a fixed Anthropic Message), timed by tinybench. keyline gets its
 * configuration as bindings (`app.request`'s third argument, read with `bindingsOnly` as the
 * proxy tests do) with `LOG_LEVEL=info`; its log lines are serialised as the console sink
 * would, then dropped. A second row gives the bytes each allocates per request on the V8
 * heap, counted by GC accounting over 5000 requests (support/allocation.ts).
 */
import { Bench } from 'tinybench'
import { createApp } from '../src/app.ts'
import { bindingsOnly } from '../src/env.ts'
import { buildMessage } from '../test/stubs/anthropic-wire.ts'
import { generateStubKeys } from '../test/stubs/index.ts'
import { bytesPerCall } from './support/allocation.ts'
import { bareProxyApp } from './support/bare-proxy-app.ts'
import { clientHeaders, messagesBody } from './support/requests.ts'
import { fmt, median } from './support/stats.ts'
import { type BenchContext, type Row, ratio, verdict } from './support/table.ts'
import { randomToken } from './support/tokens.ts'

/** Never contacted: the canned fetch answers instead. */
const UPSTREAM = 'http://127.0.0.1:9'

/** A `fetch` standing in for Anthropic: reads the request body, answers a fixed Message. */
export const cannedFetch = (): typeof fetch => {
  const message = JSON.stringify(
    buildMessage({
      model: 'claude-sonnet-4-5',
      text: 'Hello from the canned upstream.',
      inputTokens: 3,
    })
  )
  return async (input, init) => {
    const body = input instanceof Request ? input.body : init?.body
    if (body) await new Response(body).arrayBuffer()
    return new Response(message, {
      status: 200,
      headers: { 'content-type': 'application/json', 'request-id': 'req_bench' },
    })
  }
}

/** Runs benchmark 3. */
export const inProcess = async (ctx: BenchContext): Promise<Row[]> => {
  const apiKey = generateStubKeys().anthropic.apiKey
  const clientToken = randomToken('bench-client')
  const fetch = cannedFetch()
  let logBytes = 0
  const keyline = createApp({
    env: bindingsOnly,
    fetch,
    logSink: (record) => {
      logBytes += JSON.stringify(record).length
    },
  })
  const bindings = {
    KEYLINE_CLIENT_TOKENS: clientToken,
    ANTHROPIC_API_KEY: apiKey,
    ANTHROPIC_BASE_URL: UPSTREAM,
    LOG_LEVEL: 'info',
  }
  const bare = bareProxyApp({ upstream: UPSTREAM, apiKey, fetch })
  const headers = clientHeaders(clientToken)
  const body = messagesBody()
  const call = async (app: { request: typeof keyline.request }, env?: object) => {
    const res = await app.request('/v1/messages', { method: 'POST', headers, body }, env)
    await res.arrayBuffer()
    return res.status
  }
  for (const [name, status] of [
    ['keyline', await call(keyline, bindings)],
    ['bare Hono', await call(bare)],
  ] as const) {
    if (status !== 200) throw new Error(`${name} app answered ${status}`)
  }

  const rounds = ctx.quick ? 1 : 3
  const means = { keyline: [] as number[], bare: [] as number[] }
  for (let round = 1; round <= rounds; round++) {
    ctx.progress(`in process: round ${round}/${rounds}`)
    const bench = new Bench({
      time: ctx.quick ? 50 : 1500,
      warmupTime: ctx.quick ? 10 : 300,
      iterations: ctx.quick ? 5 : 64,
      throws: true,
    })
    bench.add('keyline', () => call(keyline, bindings).then(() => undefined))
    bench.add('bare', () => call(bare).then(() => undefined))
    await bench.run()
    for (const task of bench.tasks) {
      const result = task.result
      if (result.state !== 'completed') throw new Error(`${task.name}: ${result.state}`)
      means[task.name as keyof typeof means].push(result.latency.mean * 1000)
    }
  }
  if (logBytes === 0) throw new Error('keyline wrote no log line: LOG_LEVEL=info not applied')
  const k = median(means.keyline)
  const b = median(means.bare)
  // Bytes allocated per request on the V8 heap, by GC accounting (support/allocation.ts).
  const count = ctx.quick ? 200 : 5000
  ctx.progress('in process: bytes allocated per request')
  const allocated = { keyline: [] as number[], bare: [] as number[] }
  for (let round = 1; round <= rounds; round++) {
    allocated.keyline.push(await bytesPerCall(() => call(keyline, bindings), count))
    allocated.bare.push(await bytesPerCall(() => call(bare), count))
  }
  const ka = median(allocated.keyline) / 1024
  const ba = median(allocated.bare) / 1024
  return [
    {
      bench: 3,
      measurement: 'in process, app.request() (µs/request, mean)',
      keyline: fmt(k),
      comparator: `bare Hono app ${fmt(b)}`,
      ratio: ratio(k, b),
      target: verdict('≤ 2×', k <= 2 * b),
    },
    {
      bench: 3,
      measurement: 'in process, V8 heap KiB allocated per request',
      keyline: fmt(ka),
      comparator: `bare Hono app ${fmt(ba)}`,
      ratio: ratio(ka, ba),
      target: '—',
    },
  ]
}

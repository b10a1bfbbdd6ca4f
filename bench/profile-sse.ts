/**
 * The SSE relay in process, for a profiler and for per-chunk cost without the wire's noise:
 * `node [--cpu-prof] bench/profile-sse.ts [--streams 100] [--chunk KiB] [--fixed]` relays a ~1 MiB
 * Messages stream (the stub's wire format, in ~4 KiB chunks cut at events, as
 * `servers/sse-upstream.ts` writes it, or in `--chunk` KiB cut anywhere) from a
 * canned upstream `fetch` through `createApp()` and through the bare Hono app, reads each answer
 * to its end, and prints ms per stream and MiB/s for both, from the same run.
 */
import { parseArgs } from 'node:util'
import { createApp } from '../src/app.ts'
import { bindingsOnly } from '../src/env.ts'
import { concatChunks } from '../src/upstream/stream.ts'
import { buildStreamEvents } from '../test/stubs/anthropic-wire.ts'
import { generateStubKeys } from '../test/stubs/index.ts'
import { bareProxyApp } from './support/bare-proxy-app.ts'
import { clientHeaders, messagesBody } from './support/requests.ts'
import { fixedKeys, randomToken } from './support/tokens.ts'

const { values } = parseArgs({
  options: {
    streams: { type: 'string', default: '100' },
    chunk: { type: 'string', default: '0' },
    fixed: { type: 'boolean', default: false },
  },
})
const streams = Number(values.streams)
/** KiB per chunk, cut anywhere (as a socket read cuts), or 0: ~4 KiB cut at event boundaries. */
const chunkKiB = Number(values.chunk)
const UPSTREAM = 'http://127.0.0.1:9'

// Token-sized deltas, cut at event boundaries into ~4 KiB chunks.
const words = Math.ceil((1024 * 1024) / 126)
const text = Array.from({ length: words }, (_, i) => `tok${i.toString(36).padStart(12, '0')} `)
const encoder = new TextEncoder()
const chunks: Uint8Array[] = []
let pending = ''
for (const e of buildStreamEvents({
  model: 'claude-sonnet-4-5',
  text: text.join(''),
  inputTokens: 3,
})) {
  pending += `event: ${e.event}\ndata: ${JSON.stringify(e.data)}\n\n`
  if (pending.length >= 4096) {
    chunks.push(encoder.encode(pending))
    pending = ''
  }
}
if (pending) chunks.push(encoder.encode(pending))
if (chunkKiB > 0) {
  const whole = concatChunks(
    chunks,
    chunks.reduce((sum, chunk) => sum + chunk.byteLength, 0)
  )
  chunks.length = 0
  // 7 bytes short of the KiB, so the cuts fall anywhere in a line.
  const step = chunkKiB * 1024 - 7
  for (let at = 0; at < whole.length; at += step) chunks.push(whole.slice(at, at + step))
}
const total = chunks.reduce((sum, chunk) => sum + chunk.byteLength, 0)

/** A `fetch` standing in for Anthropic: reads the request body, answers the stream. */
const fetch: typeof globalThis.fetch = async (_input, init) => {
  if (init?.body) await new Response(init.body).arrayBuffer()
  let next = 0
  const body = new ReadableStream<Uint8Array>({
    pull(controller) {
      const chunk = chunks[next++]
      if (chunk) controller.enqueue(chunk)
      else controller.close()
    },
  })
  return new Response(body, {
    headers: { 'content-type': 'text/event-stream; charset=utf-8', 'request-id': 'req_sse' },
  })
}

const { apiKey, clientToken } = values.fixed
  ? fixedKeys()
  : { apiKey: generateStubKeys().anthropic.apiKey, clientToken: randomToken('bench-client') }
const keyline = createApp({ env: bindingsOnly, fetch, logSink: (record) => JSON.stringify(record) })
const bare = bareProxyApp({ upstream: UPSTREAM, apiKey, fetch })
const bindings = {
  KEYLINE_CLIENT_TOKENS: clientToken,
  ANTHROPIC_API_KEY: apiKey,
  ANTHROPIC_BASE_URL: UPSTREAM,
  LOG_LEVEL: 'info',
}

const relay = async (app: typeof bare | typeof keyline, env?: object): Promise<void> => {
  const init = { method: 'POST', headers: clientHeaders(clientToken), body: messagesBody(true) }
  const res = await app.request('/v1/messages', init, env)
  let read = 0
  const reader = (res.body as ReadableStream<Uint8Array>).getReader()
  for (let r = await reader.read(); !r.done; r = await reader.read()) read += r.value.byteLength
  if (res.status !== 200 || read < total) throw new Error(`answered ${res.status}, ${read} B`)
}

const msPerStream = async (run: () => Promise<void>): Promise<number> => {
  for (let i = 0; i < 10; i++) await run()
  const started = performance.now()
  for (let i = 0; i < streams; i++) await run()
  return (performance.now() - started) / streams
}

const mib = total / 1024 / 1024
const k = await msPerStream(() => relay(keyline, bindings))
const b = await msPerStream(() => relay(bare))
const line = (name: string, ms: number): string =>
  `${name}: ${ms.toFixed(2)} ms/stream, ${(mib / (ms / 1000)).toFixed(1)} MiB/s`
console.log(
  `${line('keyline', k)}; ${line('bare', b)}; ${(b / k).toFixed(2)}× (${chunks.length} chunks of ~${chunkKiB || 4} KiB, ${streams} streams)`
)

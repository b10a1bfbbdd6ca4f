/**
 * The upstream of the SSE benchmark: a plain `node:http` server answering `POST /v1/messages`
 * with a streamed Anthropic reply of about `BENCH_SSE_BYTES` bytes, in the stub's wire format
 * (`test/stubs/anthropic-wire.ts`: message_start, ~16-character token-sized text deltas,
 * message_delta with usage, message_stop), in writes of about 4 KiB, as fast as the socket
 * takes them. The Anthropic stub writes one event per event-loop turn and tops out at about
 * 7 MiB/s here (one write per event: about 26 MiB/s), slower than either proxy relays, so
 * through it the benchmark would measure the upstream. Key `BENCH_API_KEY` (as `x-api-key` or a bearer token), 127.0.0.1:`BENCH_PORT`.
 */
import { createServer } from 'node:http'
import { buildStreamEvents } from '../../test/stubs/anthropic-wire.ts'

/** Bytes of one `content_block_delta` event around its text, and of its text. */
const EVENT_OVERHEAD = 110
const WORD = 16

const bytes = Number(process.env.BENCH_SSE_BYTES ?? 1024 * 1024)
const words = Math.ceil(bytes / (EVENT_OVERHEAD + WORD))
const text = Array.from(
  { length: words },
  (_, i) => `tok${i.toString(36).padStart(WORD - 4, '0')} `
).join('')
/** The stream, pre-serialised, cut at event boundaries into writes of about 4 KiB. */
const writes: string[] = []
let pending = ''
for (const e of buildStreamEvents({ model: 'claude-sonnet-4-5', text, inputTokens: 3 })) {
  pending += `event: ${e.event}\ndata: ${JSON.stringify(e.data)}\n\n`
  if (pending.length >= 4096) {
    writes.push(pending)
    pending = ''
  }
}
if (pending) writes.push(pending)
const apiKey = process.env.BENCH_API_KEY ?? ''

const server = createServer((req, res) => {
  if (req.method !== 'POST') {
    res.writeHead(200, { 'content-type': 'application/json' }).end('{"status":"ok"}')
    return
  }
  req.resume()
  req.on('end', () => {
    const key = req.headers['x-api-key'] ?? req.headers.authorization?.replace(/^Bearer\s+/i, '')
    if (!apiKey || key !== apiKey) {
      res.writeHead(401, { 'content-type': 'application/json' })
      res.end(
        '{"type":"error","error":{"type":"authentication_error","message":"invalid x-api-key"}}'
      )
      return
    }
    res.writeHead(200, {
      'content-type': 'text/event-stream; charset=utf-8',
      'cache-control': 'no-cache',
      'request-id': 'req_bench_sse',
    })
    let next = 0
    const pump = (): void => {
      while (next < writes.length) {
        if (!res.write(writes[next++])) {
          res.once('drain', pump)
          return
        }
      }
      res.end()
    }
    pump()
  })
})
server.listen(Number(process.env.BENCH_PORT), '127.0.0.1')
for (const signal of ['SIGTERM', 'SIGINT'] as const) {
  process.once(signal, () => {
    server.closeAllConnections()
    server.close(() => process.exit(0))
  })
}

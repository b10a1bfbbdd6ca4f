import { deflateSync, gzipSync, zstdCompressSync } from 'node:zlib'
import { RESPONSE_ALREADY_SENT } from '@hono/node-server/utils/response'
import { type StubContext, sleep } from './stub-server.ts'

/** One server-sent event: written as `event: <event>\ndata: <json>\n\n`. */
export interface SseEvent {
  event: string
  data: unknown
}

/** The corrupted data line a `malformed` fault puts in place of the first delta. */
const MALFORMED_DATA = '{"type":"content_block_delta","index":0,"delta":{"type":"text_del'

/**
 * Writes `events` straight to the Node response, applying the request's fault: `drip`
 * (interval, gate before `message_stop`), `reset` (socket destroyed after N events),
 * `malformed` (the first `content_block_delta` carries broken JSON) and `encoding` (the stream
 * sent whole in that content coding). Returns once the stream
 * ended or the client went away.
 */
export const writeSse = async (
  c: StubContext,
  events: readonly SseEvent[],
  headers: Record<string, string>
): Promise<Response> => {
  const state = c.get('state')
  const fault = c.get('fault')
  const out = c.env.outgoing
  const socket = c.env.incoming.socket
  let gone = false
  const closed = new Promise<void>((resolve) =>
    out.once('close', () => {
      gone = true
      resolve()
    })
  )
  const write = (chunk: string) =>
    Promise.race([new Promise<void>((resolve) => out.write(chunk, () => resolve())), closed])

  const interval = fault?.kind === 'drip' ? (fault.intervalMs ?? 0) : 0
  const gated = fault?.kind === 'drip' && fault.gate === true
  const resetAfter = fault?.kind === 'reset' ? (fault.afterEvents ?? 0) : undefined
  let corrupt = fault?.kind === 'malformed'

  c.set('status', 200)
  if (fault?.kind === 'encoding') {
    const text = events
      .map((e) => `event: ${e.event}\ndata: ${JSON.stringify(e.data)}\n\n`)
      .join('')
    const body =
      fault.coding === 'zstd'
        ? zstdCompressSync(text)
        : fault.coding === 'deflate'
          ? deflateSync(text)
          : fault.coding === 'gzip'
            ? gzipSync(text)
            : Buffer.from(text)
    out.writeHead(200, {
      'content-type': 'text/event-stream; charset=utf-8',
      'content-encoding': fault.coding,
      'content-length': String(body.length),
      ...headers,
    })
    out.end(body)
    return RESPONSE_ALREADY_SENT
  }
  state.activeStreams++
  try {
    out.writeHead(200, {
      'content-type': 'text/event-stream; charset=utf-8',
      'cache-control': 'no-cache',
      ...headers,
    })
    out.flushHeaders()
    for (const [i, e] of events.entries()) {
      if (resetAfter === i) {
        socket.destroy()
        return RESPONSE_ALREADY_SENT
      }
      if (i > 0 && interval > 0) await Promise.race([sleep(interval), closed])
      if (gated && e.event === 'message_stop') await state.gate.pass(closed)
      if (gone) return RESPONSE_ALREADY_SENT
      let data = JSON.stringify(e.data)
      if (corrupt && e.event === 'content_block_delta') {
        data = MALFORMED_DATA
        corrupt = false
      }
      await write(`event: ${e.event}\ndata: ${data}\n\n`)
    }
    if (resetAfter !== undefined) socket.destroy()
    else out.end()
  } finally {
    state.activeStreams--
  }
  return RESPONSE_ALREADY_SENT
}

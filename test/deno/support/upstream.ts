/// <reference lib="deno.ns" />
/**
 * A minimal Anthropic + Fyers upstream for the Deno tests, on `Deno.serve` (the Node stubs in
 * test/stubs run under vitest): `POST /v1/messages` accepts `key` as `x-api-key`,
 * `GET /data/quotes` accepts `Authorization: <clientId>:<token>`, `POST /v1/files` drains an
 * upload and answers its size; `seen` lists the paths asked, `uploads` how each upload ended.
 */
export interface DenoUpstream {
  readonly url: string
  readonly seen: string[]
  /** Each upload's bytes, and whether it ended whole (not broken off). */
  readonly uploads: { size: number; whole: boolean }[]
  close(): Promise<void>
}

export const startUpstream = (credentials: {
  key: string
  clientId?: string
  token?: string
}): DenoUpstream => {
  const seen: string[] = []
  const uploads: { size: number; whole: boolean }[] = []
  const server = Deno.serve({ hostname: '127.0.0.1', port: 0, onListen: () => {} }, (request) => {
    const url = new URL(request.url)
    seen.push(url.pathname)
    if (url.pathname === '/v1/messages') {
      if (request.headers.get('x-api-key') !== credentials.key) {
        const error = { type: 'authentication_error', message: 'invalid x-api-key' }
        return Response.json({ type: 'error', error, request_id: 'req_1' }, { status: 401 })
      }
      // `anthropic-beta: coding-<name>`: a stream in that content coding, its text carrying
      // the key.
      const coding = request.headers.get('anthropic-beta')?.match(/^coding-(.+)$/)?.[1]
      if (coding) {
        const data = {
          type: 'content_block_delta',
          index: 0,
          delta: { type: 'text_delta', text: credentials.key },
        }
        const text = `event: content_block_delta\ndata: ${JSON.stringify(data)}\n\nevent: message_stop\ndata: {"type":"message_stop"}\n\n`
        // gzip compressed (which Deno's fetch decodes), any other name as it is.
        const body =
          coding === 'gzip'
            ? new Response(text).body?.pipeThrough(new CompressionStream('gzip'))
            : text
        return new Response(body, {
          headers: { 'content-type': 'text/event-stream', 'content-encoding': coding },
        })
      }
      return Response.json({
        id: 'msg_01',
        type: 'message',
        role: 'assistant',
        model: 'claude-sonnet-5-5',
        content: [{ type: 'text', text: 'Markets are calm.' }],
        stop_reason: 'end_turn',
        stop_sequence: null,
        usage: { input_tokens: 5, output_tokens: 4 },
      })
    }
    if (url.pathname === '/v1/files' && request.method === 'POST') {
      // An upload: drained, its bytes counted, answered as the Files API does.
      return (async () => {
        let size = 0
        try {
          for await (const chunk of request.body ?? []) size += chunk.byteLength
        } catch {
          // The upload broke off: nothing to answer (the client's proxy has gone on).
          uploads.push({ size, whole: false })
          return new Response(null, { status: 400 })
        }
        uploads.push({ size, whole: true })
        return Response.json({ type: 'file', id: 'file_01', size_bytes: size })
      })()
    }
    if (url.pathname === '/data/quotes' && credentials.token !== undefined) {
      if (request.headers.get('authorization') !== `${credentials.clientId}:${credentials.token}`) {
        return Response.json({ s: 'error', code: -17, message: 'token is invalid' })
      }
      return Response.json({ s: 'ok', code: 200, d: [{ n: 'NSE:SBIN-EQ', s: 'ok', v: {} }] })
    }
    return new Response('not found', { status: 404 })
  })
  const { port } = server.addr as Deno.NetAddr
  return { url: `http://127.0.0.1:${port}`, seen, uploads, close: () => server.shutdown() }
}

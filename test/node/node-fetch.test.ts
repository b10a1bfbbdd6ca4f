import { createServer, type IncomingMessage, type ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'
import { brotliCompressSync, deflateRawSync, deflateSync, gzipSync } from 'node:zlib'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { nodeFetch as nodeFetchOver } from '../../src/entries/node-fetch.ts'

type Handler = (incoming: IncomingMessage, outgoing: ServerResponse) => void
let handler: Handler = (_incoming, outgoing) => outgoing.end()
const server = createServer((incoming, outgoing) => handler(incoming, outgoing))
let base = ''
beforeAll(async () => {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`
})
afterAll(() => {
  server.closeAllConnections()
  return new Promise<void>((resolve) => server.close(() => resolve()))
})

/** A body of `count` chunks of `size` bytes, counting how many were pulled. */
const chunks = (count: number, size: number) => {
  const state = { pulled: 0 }
  const stream = new ReadableStream<Uint8Array>({
    pull(controller) {
      if (state.pulled++ < count) controller.enqueue(new Uint8Array(size).fill(0x62))
      else controller.close()
    },
  })
  return { stream, state }
}

const fallbackCalls: string[] = []
const fallback: typeof fetch = async (input) => {
  fallbackCalls.push(input instanceof Request ? input.url : String(input))
  return new Response('fallback')
}
const nodeFetch = nodeFetchOver(fallback)
const post = (body: ReadableStream<Uint8Array>, init: RequestInit = {}) =>
  nodeFetch(`${base}/upload?x=1`, {
    method: 'POST',
    headers: new Headers({ 'content-type': 'application/octet-stream', 'x-api-key': 'k' }),
    body,
    duplex: 'half',
    ...init,
  } as RequestInit)

describe('nodeFetch (the Node entry’s fetch for upstream calls)', () => {
  it('streams the body with backpressure and answers a Web Response', async () => {
    let received = 0
    let seenHeaders: IncomingMessage['headers'] = {}
    handler = (incoming, outgoing) => {
      seenHeaders = incoming.headers
      incoming.on('data', (chunk: Buffer) => {
        received += chunk.byteLength
      })
      incoming.on('end', () => {
        outgoing.setHeader('set-cookie', ['a=1', 'b=2'])
        outgoing.writeHead(201, { 'content-type': 'application/json', 'request-id': 'req_1' })
        outgoing.end(JSON.stringify({ received, url: incoming.url, method: incoming.method }))
      })
    }
    const { stream } = chunks(64, 64 * 1024)
    const res = await post(stream)
    expect(res.status).toBe(201)
    expect(res.headers.get('request-id')).toBe('req_1')
    expect(res.headers.getSetCookie()).toEqual(['a=1', 'b=2'])
    expect(await res.json()).toEqual({
      received: 64 * 64 * 1024,
      url: '/upload?x=1',
      method: 'POST',
    })
    expect(seenHeaders['x-api-key']).toBe('k')
    expect(seenHeaders['transfer-encoding']).toBe('chunked')
  })

  it('reads the body only as fast as the upstream takes it', async () => {
    let release: () => void = () => {}
    const released = new Promise<void>((resolve) => {
      release = resolve
    })
    handler = (incoming, outgoing) => {
      incoming.pause()
      released.then(() => {
        incoming.resume()
        incoming.on('end', () => outgoing.end('done'))
      })
    }
    const { stream, state } = chunks(4096, 64 * 1024) // 256 MiB, if it were all read
    const answered = post(stream)
    await new Promise((resolve) => setTimeout(resolve, 300))
    // Socket buffers hold a few MiB at most; the rest of the body was never pulled.
    expect(state.pulled).toBeLessThan(200)
    release()
    expect(await (await answered).text()).toBe('done')
    expect(state.pulled).toBe(4097)
  })

  it('never follows a redirect: the 3xx is the answer', async () => {
    handler = (incoming, outgoing) => {
      incoming.resume()
      incoming.on('end', () => outgoing.writeHead(307, { location: '/elsewhere' }).end())
    }
    const res = await post(chunks(2, 10).stream)
    expect(res.status).toBe(307)
    expect(res.headers.get('location')).toBe('/elsewhere')
  })

  it('aborts with the signal’s reason, and a reset mid-answer errors the body', async () => {
    handler = (incoming) => incoming.resume()
    const controller = new AbortController()
    const pending = post(chunks(2, 10).stream, { signal: controller.signal })
    setTimeout(() => controller.abort(new Error('gone')), 50)
    await expect(pending).rejects.toThrow('gone')
    // A body that waits on its client when the call is aborted is cancelled, as fetch's is.
    let cancelled: unknown
    const waiting = new ReadableStream<Uint8Array>({
      start(source) {
        source.enqueue(new Uint8Array(4))
      },
      cancel(reason) {
        cancelled = reason
      },
    })
    const stopped = new AbortController()
    const call = post(waiting, { signal: stopped.signal })
    setTimeout(() => stopped.abort(new Error('stopped')), 50)
    await expect(call).rejects.toThrow('stopped')
    expect(cancelled).toMatchObject({ message: 'stopped' })

    handler = (incoming, outgoing) => {
      incoming.resume()
      incoming.on('end', () => {
        outgoing.writeHead(200, { 'content-length': '1000' })
        outgoing.write('partial', () => setTimeout(() => outgoing.socket?.destroy(), 10))
      })
    }
    const res = await post(chunks(2, 10).stream)
    await expect(res.text()).rejects.toThrow()
  })

  it('cancels the client body once the upstream resets mid-upload', async () => {
    handler = (incoming) => {
      incoming.once('data', () => incoming.socket.destroy())
    }
    let cancelled: (reason: unknown) => void = () => {}
    const cancel = new Promise<unknown>((resolve) => {
      cancelled = resolve
    })
    let pulled = 0
    // A slow client: the reset lands while the next chunk is being read, not while writing.
    const stream = new ReadableStream<Uint8Array>({
      async pull(controller) {
        pulled++
        await new Promise((resolve) => setTimeout(resolve, 20))
        controller.enqueue(new Uint8Array(1024).fill(0x62))
      },
      cancel: (reason) => cancelled(reason),
    })
    await expect(post(stream)).rejects.toThrow('fetch failed')
    const outcome = await Promise.race([
      cancel.then(() => 'cancelled'),
      new Promise((resolve) => setTimeout(() => resolve('still pumping'), 1000)),
    ])
    expect(outcome).toBe('cancelled')
    const after = pulled
    await new Promise((resolve) => setTimeout(resolve, 100))
    expect(pulled).toBe(after)
  })

  it('a request body that fails rejects the call; an unreachable upstream too', async () => {
    handler = (incoming) => incoming.resume()
    const failing = new ReadableStream<Uint8Array>({
      pull(controller) {
        controller.error(new Error('client broke off'))
      },
    })
    await expect(post(failing)).rejects.toThrow('fetch failed')
    const closed = nodeFetch('http://127.0.0.1:1/', {
      method: 'POST',
      body: chunks(1, 1).stream,
      duplex: 'half',
    } as RequestInit)
    await expect(closed).rejects.toThrow('fetch failed')
  })

  it('sends text, bytes and no body whole, with their content-length', async () => {
    const seen: { method?: string; length?: string; encoding?: string; body: string }[] = []
    handler = (incoming, outgoing) => {
      let body = ''
      incoming.setEncoding('utf8')
      incoming.on('data', (chunk: string) => {
        body += chunk
      })
      incoming.on('end', () => {
        seen.push({
          method: incoming.method,
          length: incoming.headers['content-length'],
          encoding: incoming.headers['transfer-encoding'],
          body,
        })
        outgoing.writeHead(200, { 'content-type': 'application/json' }).end('{"ok":true}')
      })
    }
    fallbackCalls.length = 0
    const bytes = new TextEncoder().encode('{"b":"é"}')
    for (const body of ['{"a":"é"}', bytes, bytes.buffer, undefined]) {
      const res = await nodeFetch(`${base}/whole`, { method: 'POST', body })
      expect(await res.json()).toEqual({ ok: true })
    }
    const res = await nodeFetch(`${base}/whole`)
    expect(res.status).toBe(200)
    await res.text()
    expect(seen).toEqual([
      { method: 'POST', length: '10', encoding: undefined, body: '{"a":"é"}' },
      { method: 'POST', length: '10', encoding: undefined, body: '{"b":"é"}' },
      { method: 'POST', length: '10', encoding: undefined, body: '{"b":"é"}' },
      { method: 'POST', length: '0', encoding: undefined, body: '' },
      { method: 'GET', length: undefined, encoding: undefined, body: '' },
    ])
    expect(fallbackCalls).toEqual([])
  })

  it('times out through its signal while the upstream keeps the answer back', async () => {
    handler = (incoming) => incoming.resume()
    const started = Date.now()
    const pending = nodeFetch(`${base}/slow`, {
      method: 'POST',
      body: '{}',
      signal: AbortSignal.timeout(100),
    })
    await expect(pending).rejects.toThrow()
    expect(Date.now() - started).toBeLessThan(5_000)
  })

  it('hands what it does not handle to the fallback: a Request, a form, an accept-encoding', async () => {
    fallbackCalls.length = 0
    const form = new FormData()
    form.set('a', '1')
    for (const call of [
      () => nodeFetch(new Request(`${base}/request`)),
      () => nodeFetch(`${base}/form`, { method: 'POST', body: form }),
      () => nodeFetch(`${base}/gzip`, { headers: { 'accept-encoding': 'gzip' } }),
    ]) {
      expect(await (await call()).text()).toBe('fallback')
    }
    expect(fallbackCalls).toEqual([`${base}/request`, `${base}/form`, `${base}/gzip`])
  })

  it('asks for gzip and deflate, as fetch does, and hands the answer back decoded', async () => {
    const json = JSON.stringify({ text: 'a compressible answer '.repeat(200) })
    const asked: (string | undefined)[] = []
    handler = (incoming, outgoing) => {
      asked.push(incoming.headers['accept-encoding'])
      incoming.resume()
      const gzip = /\bgzip\b/.test(incoming.headers['accept-encoding'] ?? '')
      const body = gzip ? gzipSync(json) : Buffer.from(json)
      outgoing.writeHead(200, {
        'content-type': 'application/json',
        ...(gzip ? { 'content-encoding': 'gzip' } : {}),
        'content-length': String(body.length),
      })
      outgoing.end(body)
    }
    const res = await nodeFetch(`${base}/asked`, { method: 'POST', body: '{}' })
    expect(asked).toEqual(['gzip, deflate'])
    expect(res.headers.get('content-encoding')).toBeNull()
    expect(await res.text()).toBe(json)
  })

  it('decodes what fetch decodes, and refuses what it cannot decode rather than pass it on', async () => {
    const json = JSON.stringify({ text: 'an answer '.repeat(300) })
    const bodies: Record<string, [string, Buffer]> = {
      stacked: ['gzip, br', brotliCompressSync(gzipSync(json))],
      raw: ['deflate', deflateRawSync(json)],
      wrapped: ['deflate', deflateSync(json)],
      // A gzip cut before its trailer, as fetch takes it; an empty body with an encoding.
      'no-trailer': ['gzip', gzipSync(json).subarray(0, -8)],
      empty: ['gzip', Buffer.alloc(0)],
      unknown: ['zstd', Buffer.from(json)],
      'too-many': ['gzip, gzip, gzip, gzip, gzip, gzip', Buffer.from(json)],
    }
    handler = (incoming, outgoing) => {
      incoming.resume()
      const [encoding, body] = bodies[(incoming.url ?? '').slice(1)] as [string, Buffer]
      outgoing.writeHead(200, {
        'content-encoding': encoding,
        'content-length': String(body.length),
      })
      outgoing.end(body)
    }
    for (const name of ['stacked', 'raw', 'wrapped', 'no-trailer']) {
      expect(await (await nodeFetch(`${base}/${name}`)).text(), name).toBe(json)
    }
    expect(await (await nodeFetch(`${base}/empty`)).text()).toBe('')
    // Its compressed bytes would pass the redaction unread: no answer at all.
    for (const name of ['unknown', 'too-many']) {
      await expect(nodeFetch(`${base}/${name}`), name).rejects.toThrow('fetch failed')
    }
  })

  it('decodes an answer the upstream compressed unasked, as fetch would; a corrupt one breaks', async () => {
    const json = JSON.stringify({ text: 'é'.repeat(2000) })
    let corrupt = false
    handler = (incoming, outgoing) => {
      incoming.resume()
      incoming.on('end', () => {
        const body = corrupt ? Buffer.from('not gzip at all') : gzipSync(json)
        outgoing.writeHead(200, {
          'content-type': 'application/json',
          'content-encoding': 'gzip',
          'content-length': String(body.length),
        })
        outgoing.end(body)
      })
    }
    const res = await nodeFetch(`${base}/gzip`, { method: 'POST', body: '{}' })
    expect(res.headers.get('content-encoding')).toBeNull()
    expect(res.headers.get('content-length')).toBeNull()
    expect(await res.text()).toBe(json)
    corrupt = true
    const broken = await nodeFetch(`${base}/gzip`, { method: 'POST', body: '{}' })
    await expect(broken.text()).rejects.toThrow()
  })

  it('says content-length 0 only for a POST, PUT or PATCH without a body', async () => {
    const lengths: Record<string, string | undefined> = {}
    handler = (incoming, outgoing) => {
      lengths[incoming.method ?? ''] = incoming.headers['content-length']
      incoming.resume()
      incoming.on('end', () => outgoing.end())
    }
    for (const method of ['POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS', 'GET']) {
      await (await nodeFetch(`${base}/len`, { method })).text()
    }
    expect(lengths).toEqual({
      POST: '0',
      PUT: '0',
      PATCH: '0',
      DELETE: undefined,
      OPTIONS: undefined,
      GET: undefined,
    })
  })

  it('keeps a connection alive between calls, and closes it once idle 4 s', async () => {
    handler = (incoming, outgoing) => {
      incoming.resume()
      incoming.on('end', () => outgoing.end('ok'))
    }
    // Whatever earlier tests left idle is closed first: this test counts its own connections.
    server.closeIdleConnections()
    await new Promise((resolve) => setTimeout(resolve, 100))
    const opened: number[] = []
    const closed: number[] = []
    const started = Date.now()
    const onConnection = (socket: import('node:net').Socket) => {
      opened.push(Date.now() - started)
      socket.once('close', () => closed.push(Date.now() - started))
    }
    server.on('connection', onConnection)
    try {
      for (let i = 0; i < 3; i++) {
        expect(await (await nodeFetch(`${base}/kept`, { method: 'POST', body: '{}' })).text()).toBe(
          'ok'
        )
        await new Promise((resolve) => setTimeout(resolve, 500))
      }
      expect(opened).toHaveLength(1)
      expect(closed).toEqual([])
      await expect.poll(() => closed.length, { timeout: 8_000, interval: 100 }).toBe(1)
      expect(closed[0]).toBeGreaterThanOrEqual(3_500)
    } finally {
      server.off('connection', onConnection)
    }
  }, 15_000)
})

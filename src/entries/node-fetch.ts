import { Agent as HttpAgent, request as httpRequest, type IncomingMessage } from 'node:http'
import { Agent as HttpsAgent, request as httpsRequest } from 'node:https'
import type { Socket } from 'node:net'
import { type Readable, Transform } from 'node:stream'
import {
  createBrotliDecompress,
  createGunzip,
  createInflate,
  createInflateRaw,
  constants as zlib,
} from 'node:zlib'

/** Statuses whose response has no body, whatever the upstream sends. */
const NULL_BODY = new Set([101, 103, 204, 205, 304])

/** How long a kept-alive connection may sit idle before it is closed, as Node's `fetch` does. */
const IDLE_MS = 4_000

/**
 * `agent`, closing a connection once it has been idle {@link IDLE_MS} (or the server's shorter
 * `Keep-Alive: timeout`), so one the server is about to close is seldom reused. The timeout is
 * set only while the connection is idle: on a busy socket every read and write would renew it.
 */
const closingIdle = <A extends HttpAgent>(agent: A): A => {
  const keep = agent.keepSocketAlive.bind(agent)
  const reuse = agent.reuseSocket.bind(agent)
  // Node's own methods (typed `void`, the kept one says whether it kept the socket).
  agent.keepSocketAlive = (socket) => {
    const kept = keep(socket) as unknown as boolean
    const net = socket as Socket
    if (kept) net.setTimeout(Math.min(IDLE_MS, net.timeout || IDLE_MS))
    return kept as unknown as undefined
  }
  agent.reuseSocket = (socket, request) => {
    ;(socket as Socket).setTimeout(0)
    reuse(socket, request)
  }
  return agent
}

/** The keep-alive agents of {@link nodeFetch}, one per scheme, shared by every call. */
const AGENTS = {
  'http:': closingIdle(new HttpAgent({ keepAlive: true })),
  'https:': closingIdle(new HttpsAgent({ keepAlive: true })),
}

/** As `fetch` decodes: what arrived is handed on, and a body cut short is no error. */
const ZLIB_FLUSH = { flush: zlib.Z_SYNC_FLUSH, finishFlush: zlib.Z_SYNC_FLUSH }
const BROTLI_FLUSH = {
  flush: zlib.BROTLI_OPERATION_FLUSH,
  finishFlush: zlib.BROTLI_OPERATION_FLUSH,
}

/** `deflate` as servers send it, zlib-wrapped or raw (told apart by its first byte, as fetch). */
const inflateAny = (): Transform => {
  let inner: Transform | undefined
  return new Transform({
    transform(chunk: Buffer, _encoding, done) {
      if (!inner) {
        inner =
          ((chunk[0] ?? 0) & 0x0f) === 0x08
            ? createInflate(ZLIB_FLUSH)
            : createInflateRaw(ZLIB_FLUSH)
        inner.on('data', (data: Buffer) => this.push(data))
        inner.on('error', (error) => this.destroy(error))
      }
      inner.write(chunk, () => done())
    },
    flush(done) {
      if (!inner) return done()
      inner.once('end', () => done())
      inner.end()
    },
  })
}

/**
 * What decodes each content coding, as `fetch` hands a body back decoded: one asked for
 * ({@link ACCEPT_ENCODING}), or one an upstream used without being asked.
 */
const DECODERS: Record<string, () => Transform> = {
  gzip: () => createGunzip(ZLIB_FLUSH),
  'x-gzip': () => createGunzip(ZLIB_FLUSH),
  deflate: inflateAny,
  br: () => createBrotliDecompress(BROTLI_FLUSH),
}

/** The most content codings one body may have been put through, as `fetch` allows. */
const MAX_CODINGS = 5

/**
 * The decoders of a `content-encoding`, the last coding's first (`gzip, br` is gzip, then
 * brotli); `undefined` for a coding none decodes, or more than {@link MAX_CODINGS} of them: a
 * body that cannot be decoded is no answer, since its compressed bytes would pass redaction
 * unread.
 */
const decodersOf = (encoding: string | undefined): Transform[] | undefined => {
  const codings = (encoding ?? '')
    .toLowerCase()
    .split(',')
    .map((coding) => coding.trim())
    .filter((coding) => coding !== '' && coding !== 'identity')
  if (codings.length > MAX_CODINGS || !codings.every((coding) => coding in DECODERS)) {
    return undefined
  }
  return codings.reverse().map((coding) => (DECODERS[coding] as () => Transform)())
}

/** The encodings asked for, as Node's `fetch` asks for them (brotli over TLS only). */
const ACCEPT_ENCODING = { 'http:': 'gzip, deflate', 'https:': 'br, gzip, deflate' }

const abortError = (signal: AbortSignal): unknown =>
  signal.reason ?? new DOMException('This operation was aborted', 'AbortError')

/**
 * The response headers as Web `Headers`, repeated ones (`set-cookie`) kept apart; without the
 * encoding and length of a body that is decoded here.
 */
const responseHeaders = (incoming: IncomingMessage, decoded: boolean): Headers => {
  const headers = new Headers()
  const raw = incoming.rawHeaders
  for (let i = 0; i + 1 < raw.length; i += 2) {
    headers.append(raw[i] as string, raw[i + 1] as string)
  }
  if (decoded) {
    headers.delete('content-encoding')
    headers.delete('content-length')
  }
  return headers
}

/**
 * The response body as a Web stream that reads the socket only as fast as it is read (the
 * socket is paused while the stream's queue is full), and aborts the request when cancelled.
 */
const responseBody = (
  incoming: IncomingMessage,
  decoders: readonly Transform[],
  destroy: (reason: unknown) => void
): ReadableStream<Uint8Array> => {
  // What is read: the socket's bytes, or what the decoders make of them.
  const source = decoders.reduce<Readable>((from, decoder) => from.pipe(decoder), incoming)
  return new ReadableStream<Uint8Array>(
    {
      start(controller) {
        let open = true
        const finish = (error?: unknown): void => {
          if (!open) return
          open = false
          if (error === undefined) controller.close()
          else controller.error(error)
        }
        source.on('data', (chunk: Buffer) => {
          if (!open) return
          controller.enqueue(new Uint8Array(chunk.buffer, chunk.byteOffset, chunk.byteLength))
          if ((controller.desiredSize ?? 0) <= 0) source.pause()
        })
        source.once('end', () => finish())
        const broken = (error: unknown): void =>
          finish(new TypeError('terminated', { cause: error }))
        incoming.once('error', broken)
        // A body that does not decode (a corrupt gzip) is broken too.
        for (const decoder of decoders) decoder.once('error', broken)
        // A connection closed before the end of the body (a reset) is an error, as fetch's is.
        incoming.once('close', () => {
          if (!incoming.complete) finish(new TypeError('terminated'))
        })
      },
      pull() {
        source.resume()
      },
      cancel(reason) {
        destroy(reason)
      },
    },
    { highWaterMark: 64 * 1024, size: (chunk) => chunk.byteLength }
  )
}

/** A body sent whole, with its length: what keyline's upstream calls send but for uploads. */
type WholeBody = string | Uint8Array | ArrayBuffer

/** A whole body as `node:http` writes it. */
const wholeBytes = (body: WholeBody): string | Uint8Array =>
  body instanceof ArrayBuffer ? new Uint8Array(body) : body

const isWholeBody = (body: unknown): body is WholeBody =>
  typeof body === 'string' || body instanceof Uint8Array || body instanceof ArrayBuffer

/**
 * `fetch` for the upstream calls of the Node entry, over `node:http`/`node:https` with a
 * keep-alive agent per scheme: Node's own `fetch` (undici's WHATWG layer) costs the proxy more
 * CPU per call than everything keyline does around it (see bench/RESULTS.md), and keeps a copy
 * of a streamed body for redirects (nodejs/undici#4058, so a 1.5 GB upload held 1.7 GB).
 * A body of bytes or text is sent whole with its `content-length`; a streamed one (an upload
 * through a passthrough route) is written as it is read, with backpressure, and never copied.
 * Redirects are never followed (the 3xx is answered as `redirect: "manual"` does); `signal`
 * aborts the request and its response body. What it does not handle goes to `fallback`: a
 * `Request` as input, another body type, a scheme other than http and https, and a request
 * with its own `accept-encoding`. It asks for the encodings `fetch` asks for, and decodes.
 */
export const nodeFetch = (fallback: typeof fetch = globalThis.fetch): typeof fetch =>
  async function nodeFetch(input, init = {}) {
    const body = init.body ?? undefined
    const streamed = body instanceof ReadableStream
    if (input instanceof Request || !(streamed || body === undefined || isWholeBody(body))) {
      return fallback(input, init)
    }
    const url = input instanceof URL ? input : new URL(input)
    const agent = AGENTS[url.protocol as keyof typeof AGENTS]
    if (!agent) return fallback(input, init)
    const { signal } = init
    if (signal?.aborted) throw abortError(signal)
    const method = (init.method ?? 'GET').toUpperCase()
    const headers: Record<string, string | string[]> = {}
    const given = init.headers
    if (given && !(given instanceof Headers) && !Array.isArray(given)) {
      // A record (what keyline's calls pass): read as it is, no `Headers` built.
      for (const name of Object.keys(given)) {
        const lower = name.toLowerCase()
        if (lower !== 'set-cookie') headers[lower] = String(given[name])
      }
    } else {
      for (const [name, value] of given instanceof Headers ? given : new Headers(given)) {
        if (name !== 'set-cookie') headers[name] = value
      }
    }
    // A caller asking for an encoding expects what fetch does: the body decompressed.
    if (headers['accept-encoding'] !== undefined) return fallback(input, init)
    // What fetch asks for (and, as fetch does, the answer is handed back decoded).
    headers['accept-encoding'] = ACCEPT_ENCODING[url.protocol as keyof typeof AGENTS]
    const whole = streamed || body === undefined ? undefined : wholeBytes(body)
    if (whole !== undefined) headers['content-length'] = String(Buffer.byteLength(whole))
    // As fetch does: a POST, PUT or PATCH without a body says its length is 0.
    else if (!streamed && /^(?:POST|PUT|PATCH)$/.test(method)) headers['content-length'] = '0'
    const send = url.protocol === 'https:' ? httpsRequest : httpRequest
    return new Promise<Response>((resolve, reject) => {
      const request = send(url, { method, headers, agent })
      let settled = false
      const fail = (error: unknown): void => {
        if (settled) return
        settled = true
        reject(error)
      }
      // The streamed body's reader: an abort cancels the body, as fetch's does.
      const reader = streamed ? body.getReader() : undefined
      const onAbort = (): void => {
        const reason = abortError(signal as AbortSignal)
        request.destroy(reason instanceof Error ? reason : undefined)
        reader?.cancel(reason).catch(() => {})
        fail(reason)
      }
      signal?.addEventListener('abort', onAbort, { once: true })
      // `on`, not `once`: a second error (a reset while the body is destroyed) is no crash.
      request.on('error', (error) => {
        signal?.removeEventListener('abort', onAbort)
        fail(new TypeError('fetch failed', { cause: error }))
      })
      request.once('response', (incoming) => {
        if (settled) {
          incoming.destroy()
          return
        }
        settled = true
        const status = incoming.statusCode ?? 0
        const hasBody = method !== 'HEAD' && !NULL_BODY.has(status)
        const destroy = (reason: unknown): void => {
          signal?.removeEventListener('abort', onAbort)
          request.destroy(reason instanceof Error ? reason : undefined)
        }
        incoming.once('close', () => signal?.removeEventListener('abort', onAbort))
        const decoders = hasBody ? decodersOf(incoming.headers['content-encoding']) : []
        try {
          if (!decoders) {
            throw new TypeError(
              `content-encoding ${incoming.headers['content-encoding']} cannot be decoded`
            )
          }
          const response = new Response(
            hasBody ? responseBody(incoming, decoders, destroy) : null,
            {
              status,
              statusText: incoming.statusMessage ?? '',
              headers: responseHeaders(incoming, decoders.length > 0),
            }
          )
          if (!hasBody) incoming.resume()
          resolve(response)
        } catch (error) {
          // A status a Response cannot carry (below 200 or above 599), or a body that cannot
          // be decoded: no usable answer.
          destroy(error)
          reject(new TypeError('fetch failed', { cause: error }))
        }
      })
      if (!reader) {
        request.end(whole)
        return
      }
      const pump = async (): Promise<void> => {
        for (;;) {
          const { done, value } = await reader.read()
          if (done) {
            request.end()
            return
          }
          // The request ended while the chunk was read (the upstream reset it): it takes no more,
          // and 'close' has fired already, so waiting on it would hang the pump for good.
          if (request.destroyed || request.writableEnded) {
            await reader.cancel().catch(() => {})
            return
          }
          if (!request.write(value) && !request.destroyed) {
            await new Promise<void>((drained) => {
              const go = (): void => {
                request.off('close', go)
                request.off('drain', go)
                drained()
              }
              request.once('drain', go)
              request.once('close', go)
            })
          }
          if (request.destroyed) {
            await reader.cancel().catch(() => {})
            return
          }
        }
      }
      pump().catch((error: unknown) => {
        // The body could not be read (the client broke off, a limit was passed): the request
        // goes no further, and the attempt fails with that reason.
        request.destroy(error instanceof Error ? error : new Error(String(error)))
        fail(new TypeError('fetch failed', { cause: error }))
      })
    })
  }

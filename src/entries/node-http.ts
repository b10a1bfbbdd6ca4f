import {
  createServer,
  type IncomingMessage,
  maxHeaderSize,
  type Server,
  type ServerResponse,
} from 'node:http'
import type { Duplex } from 'node:stream'
import { getRequestListener, RequestError } from '@hono/node-server'
import {
  badTarget,
  type HttpLayerError,
  headersTooLarge,
  httpLayerBytes,
  httpLayerError,
  httpLayerResponse,
  requestTimedOut,
} from './http-errors.ts'

type FetchCallback = Parameters<typeof getRequestListener>[0]

/**
 * After the response is sent, reads and throws away what the app left of the request body, as
 * Node does itself for a body nobody touched (`req._dump()`), so the kept-alive connection is
 * ready for the next request. A body the app started reading through a web stream (hono's
 * bodyLimit does, to count it) is held paused by that stream's backpressure: without this, a
 * 413 leaves the connection stuck until `@hono/node-server` gives up draining and destroys the
 * socket (after 500 ms), and a pooled client sees a reset instead of its next answer. Draining
 * stays bounded by `@hono/node-server` (64 MiB or 500 ms, then the socket is closed).
 */
export const discardUnreadBody = (incoming: IncomingMessage, outgoing: ServerResponse): void => {
  outgoing.once('finish', () => {
    if (incoming.readableEnded || incoming.destroyed) return
    // The web stream's listener pauses the body again on every chunk: let go of it.
    incoming.removeAllListeners('data')
    incoming.resume()
  })
}

const requestErrorOf = (error: RequestError): HttpLayerError =>
  badTarget(error.message === 'Missing host header' ? 'missing_host' : 'bad_target')

const answer = (outgoing: ServerResponse, error: HttpLayerError): void => {
  outgoing
    .writeHead(error.status, {
      ...error.headers,
      'content-length': String(Buffer.byteLength(error.body)),
    })
    .end(error.body)
}

/**
 * Answers what `@hono/node-server` cannot turn into a request (a bad `Host`, a `*` or other
 * non-path target: its `RequestError`) with keyline's JSON 400, and an app that rejected
 * instead of answering with a JSON 500.
 */
const errorHandler = (error: unknown): Response => {
  if (error instanceof RequestError) return httpLayerResponse(requestErrorOf(error))
  return httpLayerResponse(
    httpLayerError(500, 'Internal error: the request could not be handled', 'api_error')
  )
}

/** keyline's JSON error for what Node's HTTP parser rejected (the `clientError` event). */
export const clientErrorOf = (error: Error & { code?: string }): HttpLayerError => {
  switch (error.code) {
    case 'HPE_HEADER_OVERFLOW':
      return headersTooLarge(maxHeaderSize)
    case 'HPE_CHUNK_EXTENSIONS_OVERFLOW':
      return httpLayerError(413, 'The chunk extensions of the request body are too large')
    case 'ERR_HTTP_REQUEST_TIMEOUT':
      return requestTimedOut()
    default:
      return httpLayerError(
        400,
        'The request is not valid HTTP/1.1 (malformed request line, header or framing)'
      )
  }
}

/**
 * Writes keyline's JSON error on a socket whose request Node's HTTP parser rejected, the way
 * Node's own handler does (only when no response has started on it), then closes it.
 */
const onClientError = (error: Error & { code?: string }, socket: Duplex): void => {
  const inFlight = (socket as Duplex & { _httpMessage?: { headersSent?: boolean } })._httpMessage
  if (error.code === 'ECONNRESET' || !socket.writable || inFlight?.headersSent) {
    socket.destroy()
    return
  }
  socket.end(httpLayerBytes(clientErrorOf(error)), () => socket.destroy())
}

/** A `CONNECT` request (Node hands over its socket): keyline is no tunnel. */
const onConnect = (_request: IncomingMessage, socket: Duplex): void => {
  const error = httpLayerError(405, 'CONNECT is not supported', 'method_not_allowed')
  socket.end(httpLayerBytes(error), () => socket.destroy())
}

/**
 * Bounds the silence inside a request body, not its length: while the body comes in, the
 * socket may be silent `idleMs` at most; then keyline's JSON 408 is written when no response
 * has started, and the connection is closed (the app sees the body break off). Once the body
 * ended (or the response finished, which hands the socket to Node's keep-alive timeout), the
 * socket has no timeout again. A request with no body is not watched.
 */
const boundUploadSilence = (
  incoming: IncomingMessage,
  outgoing: ServerResponse,
  idleMs: number
): void => {
  const { headers, socket } = incoming
  if (headers['content-length'] === undefined && headers['transfer-encoding'] === undefined) return
  if (headers['content-length'] === '0' || incoming.complete) return
  socket.setTimeout(idleMs)
  // On the response, not the request: Node emits a request's `timeout` only while its body is
  // incomplete, and destroys the socket when nobody listened.
  outgoing.once('timeout', () => {
    // The whole body is here, unread yet: the app is slow, the client is not.
    if (incoming.complete) socket.setTimeout(0)
    else if (outgoing.headersSent) socket.destroy()
    else socket.end(httpLayerBytes(requestTimedOut()), () => socket.destroy())
  })
  incoming.once('end', () => {
    if (!outgoing.writableFinished) socket.setTimeout(0)
  })
}

/** How long the request line and headers may take: Node's default, which `requestTimeout: 0` turns off. */
const HEADERS_TIMEOUT_MS = 60_000

/** Options of {@link createNodeServer}. */
export interface NodeServerOptions {
  /** The host the server listens on, for the request URL. @default the `Host` header's */
  readonly hostname?: string
  /**
   * The longest silence inside a request body, in ms (`KEYLINE_UPLOAD_IDLE_TIMEOUT_MS`); 0 for
   * none. An upload that keeps sending is never cut, however long it takes (Node's own
   * `requestTimeout`, five minutes for the whole request, is off).
   * @default 60000
   */
  readonly uploadIdleTimeoutMs?: number
}

/**
 * The Node HTTP server of keyline: `@hono/node-server`'s request listener around `fetch`, with
 * every HTTP-layer rejection answered as keyline's JSON error (a malformed request or header,
 * a header block over Node's 16 KiB, a missing or bad `Host`, a `*` target, an unknown
 * `Expect`, `CONNECT`, an upload silent for `uploadIdleTimeoutMs`) and an unread request body
 * discarded after its response, so a 413 keeps the connection usable.
 */
export const createNodeServer = (fetch: FetchCallback, options: NodeServerOptions = {}): Server => {
  const { hostname, uploadIdleTimeoutMs = 60_000 } = options
  if (!Number.isInteger(uploadIdleTimeoutMs) || uploadIdleTimeoutMs < 0) {
    throw new RangeError('createNodeServer: uploadIdleTimeoutMs must be a whole number of ms')
  }
  const listener = getRequestListener(fetch, { hostname, errorHandler })
  // Node would answer an HTTP/1.1 request without Host itself, with an empty 400. Its
  // `requestTimeout` would cut a large upload on a slow link: the silence is bounded instead;
  // the headers keep their own bound.
  const server = createServer(
    { requireHostHeader: false, requestTimeout: 0, headersTimeout: HEADERS_TIMEOUT_MS },
    (incoming, outgoing) => {
      if (incoming.headers.host === undefined && incoming.httpVersion !== '1.0') {
        return answer(outgoing, badTarget('missing_host'))
      }
      if (uploadIdleTimeoutMs > 0) boundUploadSilence(incoming, outgoing, uploadIdleTimeoutMs)
      discardUnreadBody(incoming, outgoing)
      return listener(incoming, outgoing)
    }
  )
  server.on('clientError', onClientError)
  server.on('connect', onConnect)
  // An `Expect` other than `100-continue`: Node would answer an empty 417 itself.
  server.on('checkExpectation', (_request: IncomingMessage, outgoing: ServerResponse) =>
    answer(outgoing, httpLayerError(417, 'Only the expectation 100-continue is supported'))
  )
  return server
}

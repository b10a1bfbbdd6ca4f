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
      return httpLayerError(408, 'The request was not received in time')
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
 * The Node HTTP server of keyline: `@hono/node-server`'s request listener around `fetch`, with
 * every HTTP-layer rejection answered as keyline's JSON error (a malformed request or header,
 * a header block over Node's 16 KiB, a missing or bad `Host`, a `*` target, an unknown
 * `Expect`, `CONNECT`) and an unread request body discarded after its response, so a 413
 * keeps the connection usable.
 */
export const createNodeServer = (fetch: FetchCallback, hostname?: string): Server => {
  const listener = getRequestListener(fetch, { hostname, errorHandler })
  // Node would answer an HTTP/1.1 request without Host itself, with an empty 400.
  const server = createServer({ requireHostHeader: false }, (incoming, outgoing) => {
    if (incoming.headers.host === undefined && incoming.httpVersion !== '1.0') {
      return answer(outgoing, badTarget('missing_host'))
    }
    discardUnreadBody(incoming, outgoing)
    return listener(incoming, outgoing)
  })
  server.on('clientError', onClientError)
  server.on('connect', onConnect)
  // An `Expect` other than `100-continue`: Node would answer an empty 417 itself.
  server.on('checkExpectation', (_request: IncomingMessage, outgoing: ServerResponse) =>
    answer(outgoing, httpLayerError(417, 'Only the expectation 100-continue is supported'))
  )
  return server
}

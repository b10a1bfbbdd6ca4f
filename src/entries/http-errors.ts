import { errorTypeForStatus } from '../middleware/on-error.ts'

/** An error answered before (or without) the app: status, keyline's JSON body, headers. */
export interface HttpLayerError {
  readonly status: number
  readonly body: string
  readonly headers: Record<string, string>
}

/**
 * keyline's JSON error for a request the HTTP layer rejected, with a fresh request id:
 * `{"error":{"type","message"},"request_id"}` and `x-request-id`.
 */
export const httpLayerError = (
  status: number,
  message: string,
  type = errorTypeForStatus(status)
): HttpLayerError => {
  const requestId = crypto.randomUUID()
  const body = JSON.stringify({ error: { type, message }, request_id: requestId })
  return {
    status,
    body,
    headers: {
      'content-type': 'application/json',
      'x-request-id': requestId,
      'cache-control': 'no-store',
    },
  }
}

/** The same error as a `Response`, for a handler that answers with one. */
export const httpLayerResponse = (error: HttpLayerError): Response =>
  new Response(error.body, { status: error.status, headers: error.headers })

const REASONS: Record<number, string> = {
  400: 'Bad Request',
  405: 'Method Not Allowed',
  408: 'Request Timeout',
  413: 'Content Too Large',
  417: 'Expectation Failed',
  431: 'Request Header Fields Too Large',
}

/**
 * The same error as raw HTTP/1.1 bytes, for a socket that has no response object, with
 * `connection: close`: what follows a request the parser rejected cannot be trusted to frame
 * the next one.
 */
export const httpLayerBytes = (error: HttpLayerError): string => {
  const headers = {
    ...error.headers,
    'content-length': String(new TextEncoder().encode(error.body).length),
    connection: 'close',
  }
  const lines = Object.entries(headers).map(([name, value]) => `${name}: ${value}`)
  const reason = REASONS[error.status] ?? 'Error'
  return `HTTP/1.1 ${error.status} ${reason}\r\n${lines.join('\r\n')}\r\n\r\n${error.body}`
}

/** The largest request header block keyline accepts on Node (its default) and Deno. */
export const MAX_HEADER_BYTES = 16 * 1024

/**
 * What a request without a `Host` header, or with a `Host` or target (`*`, a relative or
 * non-http URL) that does not make an http(s) URL, is told.
 */
export const badTarget = (problem: 'missing_host' | 'bad_target'): HttpLayerError =>
  httpLayerError(
    400,
    problem === 'missing_host'
      ? 'A Host header is required'
      : 'The Host header or the request target is not valid: the target must be a path or an absolute http(s) URL'
  )

/** What a header block over {@link MAX_HEADER_BYTES} is told. */
export const headersTooLarge = (limit = MAX_HEADER_BYTES): HttpLayerError =>
  httpLayerError(431, `The request's header block is larger than ${limit} bytes`)

/**
 * Whether a `Host` header names a host as an http URL would: a reg-name, IPv4 address or
 * `[IPv6]` literal, with an optional numeric port, nothing that a URL parser would read as
 * user info, a path or a query (`a@b`, `a/b`, `a?b`) and nothing it would rewrite.
 */
export const isValidHost = (host: string): boolean => {
  const match = /^(\[[^\]]*\]|[^:]*)(?::\d*)?$/.exec(host)
  if (!match?.[1]) return false
  try {
    return new URL(`http://${host}/`).hostname === match[1].toLowerCase()
  } catch {
    return false
  }
}

/** The bytes a request's line and header block take, as an HTTP/1.1 parser counts them. */
export const headerBlockBytes = (request: Request): number => {
  const url = new URL(request.url)
  let total = request.method.length + url.pathname.length + url.search.length + 12
  for (const [name, value] of request.headers) total += name.length + value.length + 4
  return total
}

/**
 * The HTTP-layer checks a runtime that lets these requests through (Deno) needs to answer like
 * Node: a `Host` that is not a host (Deno builds the request URL from it, so `Host: a/b` would
 * move the path) and a header block over {@link MAX_HEADER_BYTES}. `undefined` when the request
 * passes.
 */
export const httpLayerCheck = (request: Request): HttpLayerError | undefined => {
  const host = request.headers.get('host')
  if (host !== null && !isValidHost(host)) return badTarget('bad_target')
  if (headerBlockBytes(request) > MAX_HEADER_BYTES) return headersTooLarge()
  return undefined
}

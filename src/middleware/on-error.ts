import type { Context, MiddlewareHandler } from 'hono'
import { HTTPException } from 'hono/http-exception'
import type {} from 'hono/request-id'
import type { ContentfulStatusCode } from 'hono/utils/http-status'
import { anthropicErrorTypeOf } from '../catalog/anthropic.ts'
import { type ErrorBody, KeylineError } from '../errors/keyline-error.ts'
import type { Logger } from '../log/logger.ts'
import { headerValue } from '../redact/header-value.ts'
import { redactorOf } from './redaction.ts'

const GENERIC_TYPES: Record<number, string> = {
  400: 'invalid_request_error',
  401: 'authentication_error',
  403: 'forbidden',
  404: 'not_found',
  405: 'method_not_allowed',
  413: 'request_too_large',
  429: 'rate_limited',
}

/** The `type` of an error body for a bare HTTP status. */
export const errorTypeForStatus = (status: number): string =>
  GENERIC_TYPES[status] ?? (status >= 500 ? 'api_error' : 'invalid_request_error')

declare module 'hono' {
  interface ContextVariableMap {
    /** Set by {@link useAnthropicErrorShape}: this request's errors are Anthropic-shaped. */
    anthropicErrorShape: true
  }
}

/**
 * Makes every keyline error of this request Anthropic-shaped (see {@link errorResponse}): what
 * the proxy does on its Anthropic routes, whose clients are written for Anthropic's errors.
 */
export const useAnthropicErrorShape = (c: Context): void => {
  // A context variable, not a WeakSet of contexts: one map entry, no weak table per request.
  c.set('anthropicErrorShape', true)
}

/**
 * Builds the error response every keyline surface answers with: the body redacted with the
 * request's redactor, and `request_id` set from `x-request-id` (a fresh one, also sent as
 * `x-request-id`, where no request id middleware runs). On a request marked with
 * {@link useAnthropicErrorShape} the body is Anthropic's:
 * `{"type":"error","error":{"type":<Anthropic's type>,"message",…},"request_id"}`, keyline's
 * own type kept as `error.keyline_type` when it differs.
 */
export const errorResponse = (
  c: Context,
  status: ContentfulStatusCode,
  body: ErrorBody,
  headers: Record<string, string> = {}
): Response => {
  let requestId = c.get('requestId') as string | undefined
  if (!requestId && !body.request_id) {
    requestId = crypto.randomUUID()
    if (!c.res.headers.has('x-request-id')) headers = { ...headers, 'x-request-id': requestId }
  }
  if (requestId && !body.request_id) body.request_id = requestId
  if (c.get('anthropicErrorShape') === true) {
    const type = anthropicErrorTypeOf(body.error.type, status)
    const error = {
      ...body.error,
      type,
      ...(type === body.error.type ? {} : { keyline_type: body.error.type }),
    }
    body = { type: 'error', error, request_id: body.request_id } as ErrorBody
  }
  const redactor = redactorOf(c)
  const safe = redactor.redact(body) as unknown as ErrorBody
  const safeHeaders = Object.fromEntries(
    Object.entries(headers).map(([name, value]) => [
      name,
      headerValue(redactor.redactString(value)),
    ])
  )
  return c.json(safe, status, safeHeaders)
}

/** Whether the client went away: its request's signal aborted, so nobody reads the answer. */
const clientGone = (c: Context): boolean => c.req.raw.signal?.aborted === true

/**
 * The {@link KeylineError} an error is or wraps (through `cause`, a few levels deep): a client
 * such as the Anthropic SDK wraps the error its `fetch` threw.
 */
const keylineErrorIn = (err: unknown): KeylineError | undefined => {
  let current = err
  for (let depth = 0; depth < 4 && current; depth++) {
    if (current instanceof KeylineError) return current
    current = (current as { cause?: unknown }).cause
  }
  return undefined
}

const toResponse = (err: unknown, c: Context): Response => {
  if (clientGone(c)) {
    return errorResponse(c, 499 as ContentfulStatusCode, {
      error: { type: 'client_closed_request', message: 'The client closed the request' },
    })
  }
  const known = keylineErrorIn(err)
  if (known) return errorResponse(c, known.status, known.toBody(), { ...known.headers })
  if (err instanceof HTTPException) {
    const status = err.status as ContentfulStatusCode
    const message = status >= 500 ? 'The server failed to handle the request' : err.message
    return errorResponse(c, status, {
      error: { type: errorTypeForStatus(status), message: message || 'Request failed' },
    })
  }
  return errorResponse(c, 500, {
    error: { type: 'api_error', message: 'Internal error: the request could not be handled' },
  })
}

const logUnexpected = (err: unknown, c: Context): void => {
  if (keylineErrorIn(err) || err instanceof HTTPException || clientGone(c)) return
  try {
    const logger = c.get('logger') as Logger | undefined
    const error = redactorOf(c).redactError(err)
    if (logger) logger.error('unhandled error', { error })
    else console.error(JSON.stringify({ level: 'error', msg: 'unhandled error', error }))
  } catch {
    // logging must never turn one failure into two
  }
}

/**
 * keyline's `app.onError`: known errors keep their status and safe message, an
 * `HTTPException` keeps its status, a request its client abandoned gets a quiet 499, anything
 * else is a 500 with a generic message. Every body
 * is `{"error":{"type","message"},"request_id"}`, redacted; unexpected errors are logged
 * redacted and without a stack. The raw error is never printed and never sent.
 */
export const onError = (err: Error, c: Context): Response => {
  logUnexpected(err, c)
  return toResponse(err, c)
}

/**
 * For apps that compose keyline's pieces themselves: replaces the response of any request whose
 * handler threw (`c.error`) with keyline's redacted JSON error. Hono answers such errors with
 * the app's `onError` before this middleware resumes — and Hono's default `onError` prints the
 * raw error — so also set `app.onError(onError)`.
 */
export const redactErrors = (): MiddlewareHandler =>
  async function redactErrors(c, next) {
    await next()
    if (c.error) {
      logUnexpected(c.error, c)
      c.res = toResponse(c.error, c)
    }
  }

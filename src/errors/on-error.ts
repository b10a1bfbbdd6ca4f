import type { Context } from 'hono'
import { HTTPException } from 'hono/http-exception'
import type { ContentfulStatusCode } from 'hono/utils/http-status'
import { type ErrorBody, KeylineError } from './keyline-error.ts'

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

/** Builds the error response every keyline surface answers with. */
export const errorResponse = (
  c: Context,
  status: ContentfulStatusCode,
  body: ErrorBody,
  headers: Record<string, string> = {}
): Response => {
  const requestId = c.get('requestId' as never) as string | undefined
  if (requestId && !body.request_id) body.request_id = requestId
  return c.json(body, status, headers)
}

/**
 * keyline's `app.onError`: known errors keep their status and safe message, an
 * `HTTPException` keeps its status, anything else is a 500 with a generic message. The raw
 * error is never printed and never sent: no stack, no header values, no upstream text.
 */
export const onError = (err: Error, c: Context): Response => {
  if (err instanceof KeylineError) {
    return errorResponse(c, err.status, err.toBody(), { ...err.headers })
  }
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

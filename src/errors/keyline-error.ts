import type { ContentfulStatusCode } from 'hono/utils/http-status'

/** The machine-readable body of every error keyline answers with. */
export interface ErrorBody {
  error: { type: string; message: string } & Record<string, unknown>
  request_id?: string
}

/**
 * An error whose type, status and message are safe to show a client as they are. Its `details`
 * are extra fields of the `error` object and must never hold a secret.
 */
export class KeylineError extends Error {
  override name = 'KeylineError'
  readonly type: string
  readonly status: ContentfulStatusCode
  readonly details: Readonly<Record<string, unknown>>
  readonly headers: Readonly<Record<string, string>>

  constructor(
    status: ContentfulStatusCode,
    type: string,
    message: string,
    options: {
      details?: Record<string, unknown>
      headers?: Record<string, string>
      cause?: unknown
    } = {}
  ) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause })
    this.status = status
    this.type = type
    this.details = options.details ?? {}
    this.headers = options.headers ?? {}
  }

  /** The `error` object of the response body. */
  toBody(requestId?: string): ErrorBody {
    const body: ErrorBody = { error: { type: this.type, message: this.message, ...this.details } }
    if (requestId) body.request_id = requestId
    return body
  }
}

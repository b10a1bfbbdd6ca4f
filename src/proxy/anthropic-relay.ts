import { KeylineError } from '../errors/keyline-error.ts'

/** Anthropic's error body: `{"type":"error","error":{"type","message"},"request_id"}`. */
export interface AnthropicErrorBody {
  type: 'error'
  error: { type: string; message: string }
  request_id?: string
}

const isAnthropicError = (body: unknown): body is AnthropicErrorBody => {
  if (!body || typeof body !== 'object') return false
  const error = (body as { error?: unknown }).error
  return (
    !!error &&
    typeof error === 'object' &&
    typeof (error as { type?: unknown }).type === 'string' &&
    typeof (error as { message?: unknown }).message === 'string'
  )
}

/** A body parsed as JSON, or `undefined` when it is not JSON. */
export const parseJson = (text: string): unknown => {
  try {
    return JSON.parse(text) as unknown
  } catch {
    return undefined
  }
}

/** The 502 for an upstream answer that is not what Anthropic sends (HTML, malformed JSON). */
export const malformed = (status: number): KeylineError =>
  new KeylineError(
    502,
    'upstream_malformed',
    `Anthropic answered HTTP ${status} with a body keyline cannot read`,
    { details: { provider: 'anthropic', upstream_status: status } }
  )

/**
 * Reads an upstream error body as Anthropic's error body, keeping only its type, message and
 * request id. An answer that is not one becomes a 502 `upstream_malformed` error instead.
 */
export const readAnthropicError = (status: number, text: string): AnthropicErrorBody => {
  const body = parseJson(text)
  if (!isAnthropicError(body)) throw malformed(status)
  const relayed: AnthropicErrorBody = {
    type: 'error',
    error: { type: body.error.type, message: body.error.message },
  }
  if (typeof body.request_id === 'string') relayed.request_id = body.request_id
  return relayed
}

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

/**
 * Reads an upstream error response as Anthropic's error body. An answer that is not one (HTML
 * from a proxy, malformed JSON) becomes a 502 `upstream_malformed` error instead.
 */
export const readAnthropicError = async (response: Response): Promise<AnthropicErrorBody> => {
  const text = await response.text()
  let body: unknown
  try {
    body = JSON.parse(text)
  } catch {
    body = undefined
  }
  if (!isAnthropicError(body)) {
    throw new KeylineError(
      502,
      'upstream_malformed',
      `Anthropic answered HTTP ${response.status} with a body that is not an Anthropic error`,
      { details: { provider: 'anthropic', upstream_status: response.status } }
    )
  }
  const relayed: AnthropicErrorBody = {
    type: 'error',
    error: { type: body.error.type, message: body.error.message },
  }
  if (typeof body.request_id === 'string') relayed.request_id = body.request_id
  return relayed
}

import type { ProviderSnapshot } from '../secrets/registry.ts'
import type { Secret } from '../secrets/secret.ts'
import type { NextValidity } from './next-validity.ts'

/** The Anthropic API version sent with the validation call. */
export const ANTHROPIC_VERSION = '2023-06-01'

/** Statuses that say nothing about the key: the upstream is busy or failing. */
const isTransient = (status: number): boolean => status === 429 || status >= 500

const drain = async (response: Response): Promise<void> => {
  try {
    await response.body?.cancel()
  } catch {
    // nothing to release
  }
}

const byStatus = (status: number, now: number): NextValidity =>
  isTransient(status)
    ? { state: 'unknown', reason: `http_${status}`, checkedAt: now }
    : { state: 'invalid', reason: `http_${status}`, checkedAt: now }

/** `GET {baseUrl}/v1/models` with the next key: valid iff HTTP 200. */
export const probeAnthropic = async (
  snapshot: ProviderSnapshot<'anthropic'>,
  next: Secret,
  doFetch: typeof fetch,
  signal: AbortSignal,
  now: () => number
): Promise<NextValidity> => {
  const response = await doFetch(`${snapshot.settings.baseUrl}/v1/models`, {
    method: 'GET',
    headers: {
      'x-api-key': next.reveal(),
      'anthropic-version': ANTHROPIC_VERSION,
      accept: 'application/json',
    },
    redirect: 'manual',
    signal,
  })
  await drain(response)
  if (response.status === 200) return { state: 'valid', checkedAt: now() }
  return byStatus(response.status, now())
}

/**
 * `GET {baseUrl}/api/v3/profile` with `Authorization: <client_id>:<next token>`: valid iff
 * HTTP 200 and `s == "ok"`. Fyers answers some rejections as HTTP 200 with `s: "error"`.
 */
export const probeFyers = async (
  snapshot: ProviderSnapshot<'fyers'>,
  next: Secret,
  doFetch: typeof fetch,
  signal: AbortSignal,
  now: () => number
): Promise<NextValidity> => {
  const clientId = snapshot.credentials.clientId.current
  if (!clientId) return { state: 'unknown', reason: 'client_id_missing', checkedAt: now() }
  const response = await doFetch(`${snapshot.settings.baseUrl}/api/v3/profile`, {
    method: 'GET',
    headers: {
      authorization: `${clientId.reveal()}:${next.reveal()}`,
      accept: 'application/json',
    },
    redirect: 'manual',
    signal,
  })
  let body: unknown
  try {
    body = await response.json()
  } catch {
    body = undefined
  }
  const envelope = body && typeof body === 'object' ? (body as Record<string, unknown>) : {}
  if (response.status === 200 && envelope.s === 'ok') return { state: 'valid', checkedAt: now() }
  if (response.status !== 200) return byStatus(response.status, now())
  const code = typeof envelope.code === 'number' ? envelope.code : undefined
  if (code === -353) return { state: 'unknown', reason: 'fyers_code_-353', checkedAt: now() }
  return {
    state: 'invalid',
    reason: code === undefined ? 'fyers_not_ok' : `fyers_code_${code}`,
    checkedAt: now(),
  }
}

import { headerValue } from '../redact/header-value.ts'
import type { Redactor } from '../redact/redactor.ts'

/** Client headers that may reach the Anthropic API; everything else (credentials, cookies, hop-by-hop) stays behind. */
const ANTHROPIC_REQUEST_HEADERS = ['anthropic-version', 'anthropic-beta', 'accept']

/** Upstream response headers worth relaying to the client. */
const RELAYED_RESPONSE_HEADERS = [
  'content-type',
  'request-id',
  'retry-after',
  'retry-after-ms',
  'cache-control',
  'x-should-retry',
]
const RELAYED_RESPONSE_PREFIXES = ['anthropic-ratelimit-']

/** The Anthropic API version sent when the client names none. */
export const DEFAULT_ANTHROPIC_VERSION = '2023-06-01'

/**
 * Builds the headers of an Anthropic request from an allow-list of the client's headers plus
 * the key: the client's `authorization`, `x-api-key`, `cookie` and hop-by-hop headers never
 * reach the upstream.
 */
export const anthropicRequestHeaders = (
  client: Headers,
  apiKey: string,
  json: boolean
): Headers => {
  const headers = new Headers()
  for (const name of ANTHROPIC_REQUEST_HEADERS) {
    const value = client.get(name)
    if (value) headers.set(name, value)
  }
  if (!headers.has('anthropic-version')) headers.set('anthropic-version', DEFAULT_ANTHROPIC_VERSION)
  if (json) headers.set('content-type', 'application/json')
  headers.set('x-api-key', apiKey)
  return headers
}

/**
 * The upstream response headers a client may see, from an allow-list, each value redacted (an
 * upstream may echo a credential anywhere); encodings and lengths are recomputed.
 */
export const relayedResponseHeaders = (upstream: Headers, redactor: Redactor): Headers => {
  const headers = new Headers()
  for (const [name, value] of upstream) {
    if (
      RELAYED_RESPONSE_HEADERS.includes(name) ||
      RELAYED_RESPONSE_PREFIXES.some((prefix) => name.startsWith(prefix))
    ) {
      headers.set(name, headerValue(redactor.redactString(value)))
    }
  }
  return headers
}

/** Codes (of an error or its `cause`, as Node's fetch reports them) that mean TLS failed. */
const TLS_CODES = /^(?:ERR_TLS_|ERR_SSL_|CERT_|UNABLE_TO_|DEPTH_ZERO_|SELF_SIGNED_)/

/** The `code` of `error` or of the first `cause` that has one. */
const codeOf = (error: unknown): string | undefined => {
  for (let at = error, depth = 0; at && typeof at === 'object' && depth < 4; depth++) {
    const { code, cause } = at as { code?: unknown; cause?: unknown }
    if (typeof code === 'string') return code
    at = cause
  }
  return undefined
}

/** The messages of `error` and its causes: `fetch failed: bad port`. */
const messages = (error: unknown): string => {
  const parts: string[] = []
  for (let at = error, depth = 0; at && typeof at === 'object' && depth < 4; depth++) {
    const { message, cause } = at as { message?: unknown; cause?: unknown }
    if (typeof message === 'string' && message) parts.push(message)
    at = cause
  }
  return parts.join(': ') || String(error)
}

const nameOf = (error: unknown): string =>
  error && typeof error === 'object' && typeof (error as Error).name === 'string'
    ? (error as Error).name
    : ''

/**
 * Why a call to `url` got no answer, in one sentence: the connection was refused, the host
 * was not found, TLS failed (a plain-HTTP server behind `https://`, a certificate the machine
 * does not trust), or nothing answered within `timeoutMs`.
 */
export const unreachable = (url: URL, error: unknown, timeoutMs: number): string => {
  const code = codeOf(error) ?? ''
  const where = url.host
  if (nameOf(error) === 'TimeoutError' || code === 'UND_ERR_CONNECT_TIMEOUT') {
    return `${where} did not answer within ${Math.round(timeoutMs / 1000)} s: is the URL right, and keyline running?`
  }
  if (code === 'ECONNREFUSED') {
    return `Cannot connect to ${where}: connection refused (is keyline running there, on that port?)`
  }
  if (code === 'ENOTFOUND' || code === 'EAI_AGAIN') {
    return `Cannot connect to ${where}: the host name ${url.hostname} was not found`
  }
  if (code === 'ECONNRESET') {
    return `Cannot talk to ${where}: the connection was reset (is it a keyline server, over ${url.protocol.slice(0, -1)}?)`
  }
  if (TLS_CODES.test(code)) {
    const plain =
      code === 'ERR_SSL_WRONG_VERSION_NUMBER' || code === 'ERR_SSL_PACKET_LENGTH_TOO_LONG'
    return plain
      ? `TLS to ${where} failed: the server does not speak HTTPS (use an http:// URL for a local keyline)`
      : `TLS to ${where} failed: the server's certificate is not trusted (${code})`
  }
  return `Cannot reach ${where}: ${code ? `${code}, ` : ''}${messages(error)}`
}

/** What an admin API refusal means for the one running the CLI, in one sentence. */
export const refusal = (
  status: number,
  error: { type?: string; message?: string } | undefined,
  retryAfter: string | null
): string => {
  if (status === 401) {
    return 'The admin token was refused (401): set KEYLINE_ADMIN_TOKEN to the ADMIN_TOKEN (or ADMIN_TOKEN_NEW) of the deployment'
  }
  if (status === 429) {
    const wait = retryAfter && /^\d+$/.test(retryAfter) ? `wait ${retryAfter} s` : 'wait a minute'
    return `Too many failed admin calls from this address (429): ${wait}, and check KEYLINE_ADMIN_TOKEN`
  }
  if (status === 404 && !error) {
    return 'No admin API there (404): is ADMIN_TOKEN set on the deployment, and the URL right?'
  }
  const detail = error ? `${error.type}: ${error.message}` : `HTTP ${status}`
  return `The deployment answered ${status}: ${detail}`
}

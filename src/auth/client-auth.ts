import type { MiddlewareHandler } from 'hono'
import { type EnvReader, readEnv } from '../env.ts'
import { KeylineError } from '../errors/keyline-error.ts'
import { type ClientTokens, parseClientTokens } from './client-tokens.ts'
import { matchesAnyDigest } from './constant-time.ts'

/** Options of {@link clientAuth}. */
export interface ClientAuthOptions {
  /**
   * Variable holding the accepted tokens.
   * @default 'KEYLINE_CLIENT_TOKENS'
   */
  variable?: string
  /** How the request's environment is read. @default readEnv */
  env?: EnvReader
}

const BEARER = /^Bearer[ \t]+([^\s]+)[ \t]*$/i
const CHALLENGE = { 'www-authenticate': 'Bearer realm="keyline"' }

/**
 * Lets a request through only with `Authorization: Bearer <token>` naming one of the tokens in
 * `KEYLINE_CLIENT_TOKENS`, compared in constant time. With no tokens configured every request
 * is refused with a message that says how to configure them: never an open relay.
 */
export const clientAuth = (options: ClientAuthOptions = {}): MiddlewareHandler => {
  const variable = options.variable ?? 'KEYLINE_CLIENT_TOKENS'
  if (!/^[A-Z_][A-Z0-9_]*$/.test(variable)) throw new TypeError('variable must be an env name')
  const readRequestEnv = options.env ?? readEnv
  let cached: { raw: string | undefined; tokens: Promise<ClientTokens> } | undefined

  const tokensFor = (raw: string | undefined): Promise<ClientTokens> => {
    if (!cached || cached.raw !== raw) cached = { raw, tokens: parseClientTokens(raw) }
    return cached.tokens
  }

  return async function clientAuth(c, next) {
    const raw = readRequestEnv(c)[variable]
    const tokens = await tokensFor(typeof raw === 'string' ? raw : undefined)
    if (tokens.problem) {
      const message =
        tokens.problem === 'missing'
          ? `The proxy is closed: no client tokens are configured. Set ${variable} to a comma-separated list of tokens (or sha256:<hex> digests of them)`
          : `The proxy is closed: ${variable} has an entry that is neither a token of 16+ characters nor sha256:<64 hex digits>`
      throw new KeylineError(401, 'authentication_error', message, { headers: CHALLENGE })
    }
    const match = BEARER.exec(c.req.header('authorization') ?? '')
    if (!match?.[1] || !matchesAnyDigest(match[1], tokens.digests)) {
      throw new KeylineError(401, 'authentication_error', 'Missing or invalid bearer token', {
        headers: CHALLENGE,
      })
    }
    await next()
  }
}

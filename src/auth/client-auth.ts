import type { MiddlewareHandler } from 'hono'
import { type EnvReader, readEnv } from '../env.ts'
import { KeylineError } from '../errors/keyline-error.ts'
import { matchesAnyDigest, sha256 } from './constant-time.ts'

/** Why `KEYLINE_CLIENT_TOKENS` configures no usable token. */
export type ClientTokensProblem = 'missing' | 'invalid_entry'

/** The accepted client tokens, held as SHA-256 digests only. */
export interface ClientTokens {
  readonly digests: readonly Uint8Array[]
  /** Plaintext entries, for the redactor (never logged or sent). */
  readonly plaintext: readonly string[]
  readonly problem?: ClientTokensProblem
}

const HEX_DIGEST = /^sha256:([0-9a-f]{64})$/i
const MIN_PLAINTEXT_LENGTH = 16

const fromHex = (hex: string): Uint8Array =>
  Uint8Array.from(hex.match(/../g) ?? [], (byte) => Number.parseInt(byte, 16))

/**
 * Parses `KEYLINE_CLIENT_TOKENS`: comma-separated tokens, each either plaintext (at least 16
 * characters) or `sha256:<64 hex>` holding the token's SHA-256 instead of the token itself.
 * Any malformed entry disables every token, so a typo never half-opens the proxy.
 */
export const parseClientTokens = async (raw: string | undefined): Promise<ClientTokens> => {
  const entries = (raw ?? '')
    .split(',')
    .map((entry) => entry.trim())
    .filter(Boolean)
  if (entries.length === 0) return { digests: [], plaintext: [], problem: 'missing' }
  const digests: Uint8Array[] = []
  const plaintext: string[] = []
  for (const entry of entries) {
    const hashed = HEX_DIGEST.exec(entry)
    if (hashed?.[1]) {
      digests.push(fromHex(hashed[1]))
    } else if (entry.startsWith('sha256:') || entry.length < MIN_PLAINTEXT_LENGTH) {
      return { digests: [], plaintext: [], problem: 'invalid_entry' }
    } else {
      digests.push(sha256(entry))
      plaintext.push(entry)
    }
  }
  return { digests, plaintext }
}

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

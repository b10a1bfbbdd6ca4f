import type { Context, MiddlewareHandler } from 'hono'
import {
  CLIENT_TOKENS_VARIABLE,
  MIN_CLIENT_TOKEN_LENGTH,
  UNNAMED_CLIENT,
} from '../catalog/keyline.ts'
import { digestIndex, sha256 } from '../digest.ts'
import { fromHex } from '../encoding.ts'
import type { EnvRecord } from '../env.ts'
import { type EnvReader, readEnv } from '../env.ts'
import { KeylineError } from '../errors/keyline-error.ts'
import { storeReadOf } from '../secrets/stores/store-read.ts'

/** What {@link clientAuth} puts on `c.var`. */
export interface ClientAuthVariables {
  /** The name of the client token the request came with, {@link UNNAMED_CLIENT} for none. */
  clientName: string
}

declare module 'hono' {
  interface ContextVariableMap extends ClientAuthVariables {}
}

/** Why `KEYLINE_CLIENT_TOKENS` configures no usable token. */
export type ClientTokensProblem = 'missing' | 'invalid_entry' | 'unreadable' | 'store_unavailable'

/** The accepted client tokens, held as SHA-256 digests only. */
export interface ClientTokens {
  readonly digests: readonly Uint8Array[]
  /** The name of each digest's entry (`name=token`), {@link UNNAMED_CLIENT} when it has none. */
  readonly names: readonly string[]
  /** Plaintext entries, for the redactor (never logged or sent). */
  readonly plaintext: readonly string[]
  readonly problem?: ClientTokensProblem
}

const HEX_DIGEST = /^sha256:([0-9a-f]{64})$/i
const NAMED = /^([A-Za-z][A-Za-z0-9._-]{0,63})=(.+)$/

/** Whether an entry (without its name) is a token keyline accepts. */
const isToken = (entry: string): boolean =>
  HEX_DIGEST.test(entry) ||
  (!entry.startsWith('sha256:') && entry.length >= MIN_CLIENT_TOKEN_LENGTH)

/** Splits one entry into its name ({@link UNNAMED_CLIENT} when it has none) and its token. */
const splitEntry = (entry: string): [name: string, token: string] => {
  const named = NAMED.exec(entry)
  return named?.[1] && named[2] && isToken(named[2].trim())
    ? [named[1], named[2].trim()]
    : [UNNAMED_CLIENT, entry]
}

/**
 * The plaintext tokens of a `KEYLINE_CLIENT_TOKENS` value, without their names (names are no
 * secret: logs and metrics show them) and without `sha256:` digests: what a redactor replaces.
 */
export const clientTokenValues = (raw: string): string[] =>
  raw
    .split(/[,\n]/)
    .map((entry) => entry.trim())
    .filter(Boolean)
    .map((entry) => splitEntry(entry)[1])
    .filter((token) => !token.startsWith('sha256:'))

/**
 * Parses `KEYLINE_CLIENT_TOKENS`: comma-separated entries, each a token optionally named
 * (`name=token`, `name=sha256:<hex>`), the token either plaintext (at least 16 characters) or
 * `sha256:<64 hex>` holding the token's SHA-256 instead of the token itself. A plaintext token
 * that holds `=` itself (base64 padding) stays one unnamed token unless what follows the first
 * `=` is a token too. Any malformed entry disables every token, so a typo never half-opens the
 * proxy.
 */
export const parseClientTokens = async (raw: string | undefined): Promise<ClientTokens> => {
  const entries = (raw ?? '')
    .split(/[,\n]/)
    .map((entry) => entry.trim())
    .filter(Boolean)
  if (entries.length === 0) return { digests: [], names: [], plaintext: [], problem: 'missing' }
  const digests: Uint8Array[] = []
  const names: string[] = []
  const plaintext: string[] = []
  for (const entry of entries) {
    const [name, token] = splitEntry(entry)
    const hashed = HEX_DIGEST.exec(token)
    if (hashed?.[1]) {
      digests.push(fromHex(hashed[1]))
    } else if (!isToken(token)) {
      return { digests: [], names: [], plaintext: [], problem: 'invalid_entry' }
    } else {
      digests.push(sha256(token))
      plaintext.push(token)
    }
    names.push(name)
  }
  return { digests, names, plaintext }
}

/** What `GET /admin/keys/status` says of the client tokens: names and counts, never a token. */
export interface ClientTokensStatus {
  /** Whether the proxy is open: at least one token and no malformed entry. */
  readonly configured: boolean
  /** Why it is closed, when it is. */
  readonly problem: ClientTokensProblem | null
  /**
   * Where the tokens were read from: `env:KEYLINE_CLIENT_TOKENS`, `file:<path>` or a store
   * (`aws-sm:<id>`, `aws-sm:<id>#<field>`, `aws-ssm:<name>`).
   */
  readonly source: string | null
  /** What the store said, when `problem` is `store_unavailable` (never a value). */
  readonly message?: string
  /** How many tokens are accepted. */
  readonly count: number
  /** How many tokens each name has (`unnamed` counts the tokens without one). */
  readonly names: Readonly<Record<string, number>>
}

/** Reads client tokens from the environment: the variable, else its `_FILE`. */
export interface ClientTokensSource {
  /** Reads a `_FILE` through a cache that `reload()` drops (the secret registry's). */
  readCachedFile?(path: string): Promise<string> | undefined
}

/**
 * The text of a list `env` configures: `variable` itself (laid over by a secure store), else the
 * file its `_FILE` names; where it came from, or why there is none. The client tokens and the
 * client limits are read alike.
 */
export const readTokensText = async (
  env: EnvRecord,
  variable: string,
  files: ClientTokensSource | undefined
): Promise<{
  text: string | undefined
  source: string | null
  unreadable?: true
  storeError?: string
}> => {
  const direct = env[variable]
  const stored = storeReadOf(env, variable)
  if (typeof direct === 'string' && direct.trim() !== '') {
    return { text: direct, source: stored && !stored.error ? stored.source : `env:${variable}` }
  }
  if (stored?.error !== undefined) {
    return {
      text: undefined,
      source: stored.source,
      storeError: `${stored.variable}: ${stored.error}`,
    }
  }
  const path = env[`${variable}_FILE`]
  if (typeof path !== 'string' || path.trim() === '') return { text: undefined, source: null }
  const read = files?.readCachedFile?.(path.trim())
  if (!read) return { text: undefined, source: null, unreadable: true }
  try {
    return { text: await read, source: `file:${path.trim()}` }
  } catch {
    return { text: undefined, source: `file:${path.trim()}`, unreadable: true }
  }
}

const parsed = new Map<string, Promise<ClientTokens>>()
/** Parses `text`, remembering the last few texts (a token list changes rarely). */
const tokensOf = (text: string | undefined): Promise<ClientTokens> => {
  const key = text ?? ''
  let found = parsed.get(key)
  if (!found) {
    if (parsed.size >= 8) parsed.clear()
    found = parseClientTokens(text)
    parsed.set(key, found)
  }
  return found
}

/**
 * The client tokens `env` configures, as the admin status shows them: names and counts only.
 */
export const clientTokensStatus = async (
  env: EnvRecord,
  files?: ClientTokensSource,
  variable: string = CLIENT_TOKENS_VARIABLE
): Promise<ClientTokensStatus> => {
  const read = await readTokensText(env, variable, files)
  const tokens: ClientTokens = read.unreadable
    ? { digests: [], names: [], plaintext: [], problem: 'unreadable' }
    : read.storeError !== undefined
      ? { digests: [], names: [], plaintext: [], problem: 'store_unavailable' }
      : await tokensOf(read.text)
  const names: Record<string, number> = {}
  for (const name of tokens.names) names[name] = (names[name] ?? 0) + 1
  return {
    configured: !tokens.problem,
    problem: tokens.problem ?? null,
    source: read.source,
    count: tokens.digests.length,
    names,
    ...(read.storeError === undefined ? {} : { message: read.storeError }),
  }
}

/** Options of {@link clientAuth}. */
export interface ClientAuthOptions {
  /**
   * Variable holding the accepted tokens (its `_FILE` form names a file holding them).
   * @default 'KEYLINE_CLIENT_TOKENS'
   */
  variable?: string
  /** How the request's environment is read. @default readEnv */
  env?: EnvReader
  /**
   * Whether the token may also come as `x-api-key: <token>` (how Anthropic's own docs and SDK
   * examples send a key), for the routes a request decides: `true` for every route, or a test of
   * the request path. `Authorization: Bearer` is always accepted and wins when both are sent.
   * @default false: `Authorization: Bearer` only
   */
  apiKeyHeader?: boolean | ((path: string) => boolean)
  /**
   * Whether the token may also come as `Authorization: <app id>:<token>`, the form the official
   * Fyers SDK sends (its access token set to the client token; the app id is not checked).
   * @default false
   */
  appIdForm?: boolean
  /**
   * Reads `<variable>_FILE`; pass the secret registry, so `POST /admin/keys/reload` re-reads
   * the file at once (a removed token is refused from the next request on).
   * @default none: `_FILE` is not read
   */
  files?: ClientTokensSource
  /**
   * Called with each request's client name once the token matched, before the routes run: a
   * promise it returns is awaited (a client quota refuses by rejecting it, see `ClientQuotas`).
   * @default none
   */
  onClient?: (c: Context, name: string) => Promise<void> | undefined
}

/**
 * The digest of each token that matched, per token table (one per text of the list): a token
 * presented again is not hashed again, and is still compared against every digest in constant
 * time. Only tokens that matched are kept, so the map never outgrows its table.
 */
const knownDigests = new WeakMap<ClientTokens, Map<string, Uint8Array>>()

/** The index of the table's digest `presented` matches, or `-1`. */
const matchingToken = (tokens: ClientTokens, presented: string): number => {
  let known = knownDigests.get(tokens)
  const remembered = known?.get(presented)
  const digest = remembered ?? sha256(presented)
  const index = digestIndex(digest, tokens.digests)
  if (index >= 0 && remembered === undefined) {
    if (!known) {
      known = new Map()
      knownDigests.set(tokens, known)
    }
    if (known.size < tokens.digests.length) known.set(presented, digest)
  }
  return index
}

const BEARER = /^Bearer[ \t]+([^\s]+)[ \t]*$/i
const APP_ID_FORM = /^[^\s:]+:([^\s]+)$/
const CHALLENGE = { 'www-authenticate': 'Bearer realm="keyline"' }

/**
 * Lets a request through only with `Authorization: Bearer <token>` naming one of the tokens in
 * `KEYLINE_CLIENT_TOKENS` (or the file `KEYLINE_CLIENT_TOKENS_FILE` names), compared in
 * constant time, and sets `c.var.clientName` to the name of its entry (`name=token`), or
 * `unnamed`. With no tokens configured every request is refused with a message that says how
 * to configure them: never an open relay.
 */
export const clientAuth = (options: ClientAuthOptions = {}): MiddlewareHandler => {
  const variable = options.variable ?? CLIENT_TOKENS_VARIABLE
  if (!/^[A-Z_][A-Z0-9_]*$/.test(variable)) throw new TypeError('variable must be an env name')
  const readRequestEnv = options.env ?? readEnv
  const files = options.files
  const apiKeyHeader = options.apiKeyHeader ?? false
  const appIdForm = options.appIdForm ?? false
  const { onClient } = options
  let cached: { raw: string; tokens: Promise<ClientTokens>; parsed?: ClientTokens } | undefined

  /** The table of the list given as a variable, once parsed: no await on the common path. */
  const parsedFor = (env: EnvRecord): ClientTokens | undefined => {
    const entry = cached
    return entry !== undefined && entry.raw === env[variable] ? entry.parsed : undefined
  }

  const tokensFor = async (env: EnvRecord): Promise<ClientTokens> => {
    const direct = env[variable]
    // The common case, one string read per request: the parse is cached by its text.
    if (typeof direct === 'string' && direct.trim() !== '') {
      if (cached?.raw === direct) return cached.tokens
      const entry: NonNullable<typeof cached> = { raw: direct, tokens: parseClientTokens(direct) }
      entry.tokens.then(
        (tokens) => {
          entry.parsed = tokens
        },
        () => {}
      )
      cached = entry
      return entry.tokens
    }
    const read = await readTokensText(env, variable, files)
    if (read.unreadable) return { digests: [], names: [], plaintext: [], problem: 'unreadable' }
    if (read.storeError !== undefined) {
      return { digests: [], names: [], plaintext: [], problem: 'store_unavailable' }
    }
    return tokensOf(read.text)
  }

  return async function clientAuth(c, next) {
    const env = readRequestEnv(c)
    const tokens = parsedFor(env) ?? (await tokensFor(env))
    if (tokens.problem) {
      const message =
        tokens.problem === 'missing'
          ? `The proxy is closed: no client tokens are configured. Set ${variable} to a comma-separated list of tokens (or sha256:<hex> digests of them, each optionally name=…)`
          : tokens.problem === 'unreadable'
            ? `The proxy is closed: ${variable}_FILE names a file keyline cannot read`
            : tokens.problem === 'store_unavailable'
              ? `The proxy is closed: ${variable} comes from a secure store that gave no usable value (GET /admin/keys/status and the start-up log say why)`
              : `The proxy is closed: ${variable} has an entry that is neither a token of 16+ characters nor sha256:<64 hex digits> (each optionally name=…)`
      throw new KeylineError(401, 'authentication_error', message, { headers: CHALLENGE })
    }
    const authorization = c.req.header('authorization') ?? ''
    const match = BEARER.exec(authorization) ?? (appIdForm ? APP_ID_FORM.exec(authorization) : null)
    const apiKeyAllowed =
      typeof apiKeyHeader === 'function' ? apiKeyHeader(c.req.path) : apiKeyHeader
    const apiKey = apiKeyAllowed && !match ? c.req.header('x-api-key')?.trim() : undefined
    const presented = match?.[1] ?? apiKey
    const index = presented ? matchingToken(tokens, presented) : -1
    if (index < 0) {
      const message = apiKeyAllowed
        ? 'Missing or invalid client token: send it as Authorization: Bearer <token> or as x-api-key: <token>'
        : 'Missing or invalid bearer token: send the client token as Authorization: Bearer <token>'
      throw new KeylineError(401, 'authentication_error', message, { headers: CHALLENGE })
    }
    const name = tokens.names[index] ?? UNNAMED_CLIENT
    c.set('clientName', name)
    const gate = onClient?.(c, name)
    if (gate) await gate
    await next()
  }
}

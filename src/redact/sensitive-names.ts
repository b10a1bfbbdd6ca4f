/**
 * Header names whose values are always masked, whatever they hold. Compared case-insensitively.
 * Extend the list with {@link RedactorOptions.headers}.
 */
export const DEFAULT_SENSITIVE_HEADERS: readonly string[] = [
  'authorization',
  'proxy-authorization',
  'x-api-key',
  'cookie',
  'set-cookie',
  'api-key',
  'x-auth-token',
  'x-goog-api-key',
  'x-amz-security-token',
]

/** Words that make a query parameter name sensitive wherever they appear in it. */
const SENSITIVE_PARAM_WORDS = /key|token|secret|signature|passw|credential|session/

/** Query parameter names that are sensitive only as a whole (too short to match as words). */
const SENSITIVE_PARAM_NAMES = new Set(['sig', 'pwd', 'pass', 'auth', 'code', 'jwt'])

/** Lower-cases a name and drops everything but letters and digits: `X-Amz-Signature` → `xamzsignature`. */
const normalize = (name: string): string => name.toLowerCase().replace(/[^a-z0-9]/g, '')

/**
 * Tells whether a query parameter's name looks like it carries a credential: it contains
 * `key`, `token`, `secret`, `signature`, `passw`, `credential` or `session` (`api_key`,
 * `access_token`, `X-Amz-Signature`, `client_secret`, `password`), or is `sig`, `pwd`, `pass`,
 * `auth`, `code` or `jwt`. Errs on the side of masking (`monkey` is masked too).
 */
export const isSensitiveParamName = (name: string): boolean => {
  const n = normalize(name)
  return SENSITIVE_PARAM_WORDS.test(n) || SENSITIVE_PARAM_NAMES.has(n)
}

/** A case-insensitive membership test over header (or parameter) names. */
export type NameSet = (name: string) => boolean

/** Builds a case-insensitive name test from the defaults and extra names. */
export const headerNameSet = (extra: Iterable<string> = []): NameSet => {
  const names = new Set(DEFAULT_SENSITIVE_HEADERS)
  for (const name of extra) names.add(String(name).toLowerCase())
  return (name) => names.has(name.toLowerCase())
}

/** Builds the query-parameter test: {@link isSensitiveParamName} or one of the extra names. */
export const paramNameSet = (extra: Iterable<string> = []): NameSet => {
  const names = new Set<string>()
  for (const name of extra) names.add(String(name).toLowerCase())
  return (name) => isSensitiveParamName(name) || names.has(name.toLowerCase())
}

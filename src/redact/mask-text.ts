import { MASKED } from './markers.ts'
import type { NameSet } from './sensitive-names.ts'

/** What {@link maskText} needs to know about sensitive names and values. */
export interface TextMaskRules {
  /** Sensitive header names. */
  readonly header: NameSet
  /** Sensitive query parameter names. */
  readonly param: NameSet
  /** Tells whether a whole (decoded) value is a known secret, of any length. */
  readonly isSecret: (value: string) => boolean
}

const USERINFO = /\b([a-z][a-z0-9+.-]*:\/\/)([^\s/?#@"'<>]+)@/gi
const PARAM = /(^|[?&;\s])([^\s=&?#;"'<>]{1,128})=([^&#;\s"'<>]*)/g
const HEADER_LINE = /^([ \t]*)([A-Za-z][A-Za-z0-9-]*)([ \t]*:[ \t]*)(\S.*)$/gm
const JSON_PAIR = /"([A-Za-z0-9_.-]{1,64})"(\s*:\s*)"((?:[^"\\]|\\.)*)"/g
const BEARER = /\b(Bearer)(\s+)([A-Za-z0-9\-._~+/]{8,}=*)/gi
const BASIC = /\b(Basic)(\s+)([A-Za-z0-9+/]{12,}={0,2})/gi
const HAS_SCHEME = /:\/\//
const HAS_AUTH_SCHEME = /bearer|basic/i

const decode = (text: string): string => {
  try {
    return decodeURIComponent(text.replace(/\+/g, ' '))
  } catch {
    return text
  }
}

/**
 * Masks what is sensitive by its position in a text: URL userinfo (`scheme://[REDACTED]@host`),
 * values of query or form parameters with a sensitive name or a known-secret value
 * (`?api_key=[REDACTED]`, also `; session=` in cookies), header lines with a sensitive name
 * (`Authorization: [REDACTED]`), JSON members with a sensitive header name
 * (`"x-api-key":"[REDACTED]"`) and `Bearer`/`Basic` credentials.
 */
export const maskText = (text: string, rules: TextMaskRules): string => {
  let out = text
  if (HAS_SCHEME.test(out)) out = out.replace(USERINFO, `$1${MASKED}@`)
  if (out.includes('=')) {
    out = out.replace(PARAM, (all, lead: string, name: string, value: string) =>
      value && value !== MASKED && (rules.param(decode(name)) || rules.isSecret(decode(value)))
        ? `${lead}${name}=${MASKED}`
        : all
    )
  }
  if (out.includes(':')) {
    out = out.replace(HEADER_LINE, (all, lead: string, name: string, sep: string) =>
      rules.header(name) ? `${lead}${name}${sep}${MASKED}` : all
    )
  }
  if (out.includes('"')) {
    out = out.replace(JSON_PAIR, (all, name: string, sep: string) =>
      rules.header(name) || rules.param(name) ? `"${name}"${sep}"${MASKED}"` : all
    )
  }
  if (HAS_AUTH_SCHEME.test(out)) {
    out = out.replace(BEARER, `$1$2${MASKED}`)
    out = out.replace(BASIC, (all, scheme: string, space: string, value: string) =>
      /[0-9+/=]/.test(value) ? `${scheme}${space}${MASKED}` : all
    )
  }
  return out
}

import { fingerprint } from '../secrets/fingerprint.ts'
import { secretForms } from './secret-forms.ts'

/** What {@link SecretMatcher.replace} returns. */
export interface Replaced {
  /** The text with every secret form replaced. */
  readonly text: string
  /** How many characters of the input `text` holds; less than its length when it was cut. */
  readonly consumed: number
}

/**
 * The compiled form of one set of secret values: every encoded form of every value, searched
 * in one pass. Build it once per distinct set with {@link compileMatcher}.
 */
export interface SecretMatcher {
  /** How many distinct secret values it knows. */
  readonly size: number
  /** The fingerprint of the secret `text` is exactly, whatever its length; else `undefined`. */
  exact(text: string): string | undefined
  /**
   * Replaces every form of every secret at least `minLength` long with its fingerprint,
   * overlapping occurrences merged. Reads at most the first `limit` characters (an occurrence
   * that starts before `limit` is still replaced whole), so the work is bounded.
   */
  replace(text: string, limit: number): Replaced
  /** Whether `text` holds any form of any secret at least `minLength` long. */
  test(text: string): boolean
  /**
   * How many characters at the end of `text` could be the start of a secret's form that the
   * next chunk completes: a stream holds back that many (0 when the tail begins no form).
   */
  pendingSuffix(text: string): number
}

const escapeRegExp = (text: string): string => text.replace(/[\\^$.*+?()[\]{}|/-]/g, '\\$&')

const isHighSurrogate = (code: number): boolean => code >= 0xd800 && code <= 0xdbff

/** Where to cut `text` at or before `at` without splitting a surrogate pair. */
const cutAt = (text: string, at: number, floor: number): number =>
  at > floor && at < text.length && isHighSurrogate(text.charCodeAt(at - 1)) ? at - 1 : at

/**
 * Compiles a matcher for `secrets`. Values shorter than `minLength` are matched only as whole
 * strings ({@link SecretMatcher.exact}); replacing them inside text would destroy it.
 */
export const compileMatcher = (secrets: readonly string[], minLength: number): SecretMatcher => {
  const values = [...new Set(secrets)].filter((s) => s.length > 0)
  const exact = new Map<string, string>()
  const needles = new Map<string, string>()
  for (const secret of [...values].sort((a, b) => b.length - a.length)) {
    const print = fingerprint(secret)
    exact.set(secret, print)
    if (secret.length < minLength) continue
    for (const form of secretForms(secret, minLength)) {
      if (!needles.has(form)) needles.set(form, print)
    }
  }
  const ordered = [...needles.keys()].sort((a, b) => b.length - a.length)
  const longest = ordered[0]?.length ?? 0
  const pattern = ordered.length ? new RegExp(ordered.map(escapeRegExp).join('|'), 'g') : undefined
  const probe = pattern && new RegExp(pattern.source)
  // Every proper prefix of every form: what a chunk may end with when a form spans two chunks.
  const prefixes = new Set<string>()
  for (const needle of ordered) {
    for (let length = 1; length < needle.length; length++) prefixes.add(needle.slice(0, length))
  }
  const pendingSuffix = (text: string): number => {
    for (let length = Math.min(longest - 1, text.length); length > 0; length--) {
      if (prefixes.has(text.slice(text.length - length))) return length
    }
    return 0
  }

  const replace = (text: string, limit: number): Replaced => {
    const truncated = text.length > limit
    const window = truncated ? text.slice(0, limit + longest) : text
    let out = ''
    let cursor = 0
    if (pattern && window.length >= minLength) {
      pattern.lastIndex = 0
      let regionStart = -1
      let regionEnd = -1
      let prints: string[] = []
      for (let m = pattern.exec(window); m !== null && m.index < limit; m = pattern.exec(window)) {
        const start = m.index
        const end = start + m[0].length
        const print = needles.get(m[0]) ?? '[REDACTED]'
        if (start < regionEnd) {
          if (end > regionEnd) {
            regionEnd = end
            if (prints[prints.length - 1] !== print) prints.push(print)
          }
        } else {
          if (regionStart >= 0) {
            out += text.slice(cursor, regionStart) + prints.join('')
            cursor = regionEnd
          }
          regionStart = start
          regionEnd = end
          prints = [print]
        }
        pattern.lastIndex = start + 1
      }
      if (regionStart >= 0) {
        out += text.slice(cursor, regionStart) + prints.join('')
        cursor = regionEnd
      }
    }
    if (!truncated) return { text: out + text.slice(cursor), consumed: text.length }
    const end = Math.max(cursor, cutAt(text, limit, cursor))
    return { text: out + text.slice(cursor, end), consumed: end }
  }

  return {
    size: values.length,
    exact: (text) => exact.get(text),
    replace,
    test: (text) => probe?.test(text) ?? false,
    pendingSuffix,
  }
}

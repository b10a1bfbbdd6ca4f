const u = (code: number): string => `\\u${code.toString(16).padStart(4, '0')}`

const upperU = (text: string): string =>
  text.replace(/\\u([0-9a-f]{4})/g, (_, digits: string) => `\\u${digits.toUpperCase()}`)

/** The body of `JSON.stringify(text)`, without its quotes. */
export const jsonEscape = (text: string): string => JSON.stringify(text).slice(1, -1)

/**
 * The JSON-escaped forms of `text`, as it appears inside a JSON string: `JSON.stringify`'s,
 * with `/` as `\/` (PHP), with every non-ASCII unit as `\uXXXX` (Python's `ensure_ascii`,
 * Java), with `<`, `>`, `&`, U+2028 and U+2029 as `\u` escapes (Go), `\u` hex in either case,
 * and each of these escaped once more (JSON inside a JSON string).
 */
export const jsonEscapedForms = (text: string): string[] => {
  const plain = jsonEscape(text)
  const ascii = plain.replace(/[^ -~]/g, (char) => u(char.charCodeAt(0)))
  const go = plain.replace(/[<>&\u2028\u2029]/g, (char) => u(char.charCodeAt(0)))
  const base = [plain, plain.replace(/\//g, '\\/'), ascii, go]
  const cased = [...base, ...base.map(upperU)]
  return [...cased, ...cased.map(jsonEscape)]
}

const BACKSLASH = 0x5c
const LETTER_U = 0x75

/** The value of a hex digit's char code, or -1. */
const hexDigit = (code: number): number => {
  if (code >= 0x30 && code <= 0x39) return code - 0x30
  const lower = code | 0x20
  return lower >= 0x61 && lower <= 0x66 ? lower - 0x57 : -1
}

/** The 4 hex digits at `at` of `text` as a UTF-16 unit, or -1. */
const hexUnit = (text: string, at: number): number => {
  let unit = 0
  for (let k = 0; k < 4; k++) {
    const digit = hexDigit(text.charCodeAt(at + k))
    if (digit < 0) return -1
    unit = unit * 16 + digit
  }
  return unit
}

/** What the one-character escapes of JSON stand for (`\\"`, `\\\\`, `\\/`, `\\n`, `\\r`, `\\t`). */
const SHORT_ESCAPES: Readonly<Record<number, number>> = {
  34: 0x22,
  92: 0x5c,
  47: 0x2f,
  110: 0x0a,
  114: 0x0d,
  116: 0x09,
}

/**
 * The escape of a JSON string that starts at `i` of `text`, packed as `unit * 8 + length`, or -1
 * when none does (the character there stands for itself): `\uXXXX` with hex digits in either
 * case (6 characters), the same inside a JSON string once more (`\\uXXXX`, 7), and the short
 * escapes `\\"`, `\\\\`, `\\/`, `\\n`, `\\r`, `\\t` (2). A decoder of a scan that reads each
 * position once, literal or escaped; the caller checks for the backslash first (the hot path).
 */
export const escapeAt = (text: string, i: number): number => {
  if (text.charCodeAt(i) !== BACKSLASH) return -1
  const next = text.charCodeAt(i + 1)
  if (next === LETTER_U) {
    const unit = hexUnit(text, i + 2)
    if (unit >= 0) return unit * 8 + 6
  } else if (next === BACKSLASH && text.charCodeAt(i + 2) === LETTER_U) {
    const unit = hexUnit(text, i + 3)
    if (unit >= 0) return unit * 8 + 7
  }
  const short = SHORT_ESCAPES[next]
  return short === undefined ? -1 : short * 8 + 2
}

/**
 * The UTF-16 unit the character at `i` of `text` stands for, as it is or as the escape that
 * starts there ({@link escapeAt}), packed as `unit * 8 + length`: one read per position.
 */
export const unitAt = (text: string, i: number): number => {
  const code = text.charCodeAt(i)
  if (code === BACKSLASH) {
    const escaped = escapeAt(text, i)
    if (escaped >= 0) return escaped
  }
  return code * 8 + 1
}

/** The longest escape {@link escapeAt} reads: a character may take this many in a text. */
export const LONGEST_ESCAPE = 7

/**
 * How many characters at the end of `text` are an escape that the next characters may finish
 * (`\\`, `\\u`, `\\u00`, `\\\\u0`, …), 0 when none.
 */
export const unfinishedEscape = (text: string): number => {
  const from = text.lastIndexOf('\\')
  if (from < 0 || from < text.length - LONGEST_ESCAPE) return 0
  let start = from
  if (start > 0 && text.charCodeAt(start - 1) === BACKSLASH) start--
  const rest = text.slice(start)
  return /^\\\\?(?:u[0-9A-Fa-f]{0,3})?$/.test(rest) ? rest.length : 0
}

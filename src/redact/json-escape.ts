/** The body of `JSON.stringify(text)`, without its quotes. */
export const jsonEscape = (text: string): string => JSON.stringify(text).slice(1, -1)

/**
 * The JSON-escaped forms of `text`, as it appears inside a JSON string: `JSON.stringify`'s, with
 * `/` as `\/` (PHP), and each escaped once more (JSON inside a JSON string). Characters written
 * as `\uXXXX` (Python's `ensure_ascii`, Java, Go's `<>&`, any case, any mix) are the matcher's
 * escape-aware scan's: they need no form of their own.
 */
export const jsonEscapedForms = (text: string): string[] => {
  const plain = jsonEscape(text)
  const base = [plain, plain.replace(/\//g, '\\/')]
  return [...base, ...base.map(jsonEscape)]
}

/** What the one-character escapes of JSON stand for. */
const SHORT_ESCAPES: Readonly<Record<string, number>> = {
  '"': 0x22,
  '\\': 0x5c,
  '/': 0x2f,
  n: 0x0a,
  r: 0x0d,
  t: 0x09,
}

const HEX_UNIT = /^[0-9A-Fa-f]{4}$/

/**
 * The escape of a JSON string that starts at `i` of `text`, packed as `unit * 8 + length`, or -1
 * when none does: `\uXXXX` with hex digits in either case (6 characters), the same inside a JSON
 * string once more (`\\uXXXX`, 7), and the short escapes `\"`, `\\`, `\/`, `\n`, `\r`, `\t` (2).
 */
export const escapeAt = (text: string, i: number): number => {
  if (text.charCodeAt(i) !== 0x5c) return -1
  const next = text[i + 1] ?? ''
  const digits = next === 'u' ? i + 2 : next === '\\' && text[i + 2] === 'u' ? i + 3 : -1
  const hex = digits < 0 ? '' : text.slice(digits, digits + 4)
  if (HEX_UNIT.test(hex)) return Number.parseInt(hex, 16) * 8 + digits + 4 - i
  const short = SHORT_ESCAPES[next]
  return short === undefined ? -1 : short * 8 + 2
}

/**
 * What the character at `i` of `text` stands for, as it is or as the escape that starts there
 * ({@link escapeAt}), packed as `unit * 8 + length`: what a scan reading each position once needs.
 */
export const unitAt = (text: string, i: number): number => {
  const escaped = escapeAt(text, i)
  return escaped < 0 ? text.charCodeAt(i) * 8 + 1 : escaped
}

/**
 * `[start, end)` of `text` widened to whole escapes of a JSON string: a place to replace that
 * begins or ends inside one (a run of a secret's characters that begins at the `n` of `\\n`)
 * takes all of it, so that the replacement never leaves half an escape behind (`\\[REDACTED]`,
 * which no JSON parser reads). An escape starts at a backslash preceded by an even number of
 * backslashes (one preceded by an odd number is itself escaped, `\\\\`).
 */
export const widenToEscapes = (text: string, region: { start: number; end: number }): void => {
  region.start = covering(text, region.start)?.[0] ?? region.start
  region.end = covering(text, region.end)?.[1] ?? region.end
}

/** `[start, end)` of the escape `at` lies inside (after its first character), if any. */
const covering = (text: string, at: number): [number, number] | undefined => {
  // Before the text's start `escapeAt` finds no backslash.
  for (let start = at - 1; start > at - LONGEST_ESCAPE; start--) {
    const escaped = escapeAt(text, start)
    const end = start + (escaped & 7)
    let before = start
    while (text.charCodeAt(before - 1) === 0x5c) before--
    if (escaped >= 0 && end > at && (start - before) % 2 === 0) return [start, end]
  }
}

/** The longest escape {@link escapeAt} reads: a character may take this many in a text. */
export const LONGEST_ESCAPE = 7

/**
 * How many characters at the end of `text` are an escape that the next characters may finish
 * (`\`, `\u`, `\u00`, `\\u0`, …), 0 when none.
 */
export const unfinishedEscape = (text: string): number =>
  /\\\\?(?:u[0-9A-Fa-f]{0,3})?$/.exec(text.slice(-LONGEST_ESCAPE))?.[0].length ?? 0

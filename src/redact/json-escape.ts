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

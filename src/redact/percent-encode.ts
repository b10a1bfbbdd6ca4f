const encoder = new TextEncoder()

const hex = (byte: number): string => byte.toString(16).toUpperCase().padStart(2, '0')

/** Characters never percent-encoded by `encodeURIComponent`. */
const COMPONENT_SAFE = /[A-Za-z0-9\-_.!~*'()]/
/** Characters never percent-encoded by `application/x-www-form-urlencoded` (`URLSearchParams`). */
const FORM_SAFE = /[A-Za-z0-9*\-._]/
/** Characters `encodeURI` leaves alone. */
const URI_SAFE = /[A-Za-z0-9\-_.!~*'();,/?:@&=+$#]/
/** Printable ASCII the WHATWG URL parser encodes in a path. */
const PATH_UNSAFE = ' "#<>?`{}'
/** Printable ASCII the WHATWG URL parser encodes in a query (special schemes). */
const QUERY_UNSAFE = ' "#<>\''
/** Printable ASCII the WHATWG URL parser encodes in userinfo. */
const USERINFO_UNSAFE = ' "#<>?`{}/:;=@[\\]^|'
/** Printable ASCII the WHATWG URL parser encodes in a fragment. */
const FRAGMENT_UNSAFE = ' "<>`'

/** A WHATWG percent-encode set: controls, non-ASCII and the `unsafe` printable characters. */
const whatwgKeeps =
  (unsafe: string) =>
  (char: string): boolean => {
    const code = char.charCodeAt(0)
    return char.length === 1 && code > 0x20 && code < 0x7f && !unsafe.includes(char)
  }

const encodeWith = (text: string, keep: (char: string) => boolean, plus: boolean): string => {
  let out = ''
  for (const char of text) {
    if (plus && char === ' ') out += '+'
    else if (keep(char)) out += char
    else for (const byte of encoder.encode(char)) out += `%${hex(byte)}`
  }
  return out
}

/** Turns every `%XX` escape's hex digits to lower case. */
export const lowerHex = (text: string): string =>
  text.replace(/%[0-9A-F]{2}/g, (sequence) => sequence.toLowerCase())

/**
 * The percent-encoded forms of `text` that encoders in the wild produce: `encodeURIComponent`
 * (also with `!'()*` encoded, RFC 3986),
 * form encoding (`URLSearchParams`, and `encodeURIComponent` with `+` for spaces), `encodeURI`,
 * and the WHATWG URL parser's path, query, userinfo and fragment encodings; each also with `'`
 * encoded (as a URL's query re-encodes it) and with upper- and lower-case hex. Never throws (lone surrogates are encoded as U+FFFD, as `TextEncoder` does).
 */
export const percentEncodedForms = (text: string): string[] => {
  const component = encodeWith(text, (c) => COMPONENT_SAFE.test(c), false)
  const forms = [
    component,
    component.replace(/%20/g, '+'),
    // RFC 3986 encoders also encode `!'()*`.
    component.replace(/[!'()*]/g, (c) => `%${hex(c.charCodeAt(0))}`),
    encodeWith(text, (c) => FORM_SAFE.test(c), true),
    encodeWith(text, (c) => URI_SAFE.test(c), false),
    encodeWith(text, whatwgKeeps(PATH_UNSAFE), false),
    encodeWith(text, whatwgKeeps(QUERY_UNSAFE), false),
    encodeWith(text, whatwgKeeps(USERINFO_UNSAFE), false),
    encodeWith(text, whatwgKeeps(FRAGMENT_UNSAFE), false),
  ]
  // Put in a URL's query, each form has its `'` encoded once more.
  const quoted = forms.map((form) => form.replace(/'/g, '%27'))
  return [...new Set([...forms, ...quoted, ...quoted.map(lowerHex), ...forms.map(lowerHex)])]
}

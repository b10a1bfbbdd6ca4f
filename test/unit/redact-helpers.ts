/**
 * Test helpers for the redaction suites. Secrets are generated at run time: no value that looks
 * like a real key is ever committed.
 */

const ALNUM = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789'

/** A random string of `length` characters from `alphabet` (alphanumerics by default). */
export const randomSecret = (length: number, alphabet: string = ALNUM): string => {
  const chars = Array.from(alphabet)
  const bytes = crypto.getRandomValues(new Uint32Array(length))
  let out = ''
  for (const n of bytes) out += chars[n % chars.length]
  return out
}

/** Standard base64 of the UTF-8 bytes of `text`. */
export const base64 = (text: string): string => bytesToBase64(new TextEncoder().encode(text))

/** Standard base64 of `bytes`. */
export const bytesToBase64 = (bytes: Uint8Array): string => {
  let binary = ''
  for (const byte of bytes) binary += String.fromCharCode(byte)
  return btoa(binary)
}

/** base64url (no padding) of the UTF-8 bytes of `text`. */
export const base64url = (text: string): string =>
  base64(text).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '')

/** The body of `JSON.stringify(text)`, without its quotes. */
export const jsonBody = (text: string): string => JSON.stringify(text).slice(1, -1)

/** `text` as `URLSearchParams` serializes a value. */
export const formEncode = (text: string): string =>
  new URLSearchParams([['q', text]]).toString().slice(2)

/** Bytes as text and back: lower-case hex, standard and url-safe base64. The one place for each. */

/** Lower-case hex of `bytes`. */
export const toHex = (bytes: Uint8Array): string => {
  let out = ''
  for (const byte of bytes) out += (byte < 16 ? '0' : '') + byte.toString(16)
  return out
}

/** The bytes of an even-length hex string (checked by the caller). */
export const fromHex = (hex: string): Uint8Array =>
  Uint8Array.from(hex.match(/../g) ?? [], (byte) => Number.parseInt(byte, 16))

const BASE64_ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/'

/** Standard base64 of `bytes`, without padding. */
export const encodeBase64 = (bytes: Uint8Array): string => {
  let out = ''
  for (let i = 0; i < bytes.length; i += 3) {
    const a = bytes[i] ?? 0
    const b = bytes[i + 1] ?? 0
    const c = bytes[i + 2] ?? 0
    const n = (a << 16) | (b << 8) | c
    const chars = i + 2 < bytes.length ? 4 : i + 1 < bytes.length ? 3 : 2
    for (let k = 0; k < chars; k++) out += BASE64_ALPHABET[(n >> (18 - 6 * k)) & 63]
  }
  return out
}

/** Standard base64 to base64url: `+` → `-`, `/` → `_`. */
export const toBase64Url = (text: string): string => text.replace(/\+/g, '-').replace(/\//g, '_')

const URL_ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_'

/** Value of each url-safe base64 character; -1 for anything else. */
const VALUES = (() => {
  const table = new Int16Array(128).fill(-1)
  for (let i = 0; i < URL_ALPHABET.length; i++) table[URL_ALPHABET.charCodeAt(i)] = i
  return table
})()

/** URL-safe base64 of `bytes`, with `=` padding (Python's `base64.urlsafe_b64encode`). */
export const encodeBase64Url = (bytes: Uint8Array): string => {
  const text = toBase64Url(encodeBase64(bytes))
  return text.padEnd(Math.ceil(text.length / 4) * 4, '=')
}

/**
 * The bytes of url-safe base64 `text`, padded or not; `undefined` for anything that is not
 * url-safe base64 (another character, whitespace, misplaced `=`, an impossible length).
 */
export const decodeBase64Url = (text: string): Uint8Array<ArrayBuffer> | undefined => {
  let end = text.length
  if (end % 4 === 0) {
    if (text.charCodeAt(end - 1) === 61) end--
    if (text.charCodeAt(end - 1) === 61) end--
  }
  if (end % 4 === 1) return undefined
  const out = new Uint8Array(Math.floor((end * 3) / 4))
  let bits = 0
  let buffer = 0
  let o = 0
  for (let i = 0; i < end; i++) {
    const code = text.charCodeAt(i)
    const value = code < 128 ? (VALUES[code] ?? -1) : -1
    if (value < 0) return undefined
    buffer = ((buffer << 6) | value) & 0xffffff
    bits += 6
    if (bits >= 8) {
      bits -= 8
      out[o++] = (buffer >> bits) & 0xff
    }
  }
  return out
}

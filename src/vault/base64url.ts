import { encodeBase64, toBase64Url } from '../redact/base64.ts'

const ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_'

/** Value of each url-safe base64 character; -1 for anything else. */
const VALUES = (() => {
  const table = new Int16Array(128).fill(-1)
  for (let i = 0; i < ALPHABET.length; i++) table[ALPHABET.charCodeAt(i)] = i
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

const ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/'

/** Standard base64 of `bytes`, without padding. */
export const encodeBase64 = (bytes: Uint8Array): string => {
  let out = ''
  for (let i = 0; i < bytes.length; i += 3) {
    const a = bytes[i] ?? 0
    const b = bytes[i + 1] ?? 0
    const c = bytes[i + 2] ?? 0
    const n = (a << 16) | (b << 8) | c
    const chars = i + 2 < bytes.length ? 4 : i + 1 < bytes.length ? 3 : 2
    for (let k = 0; k < chars; k++) out += ALPHABET[(n >> (18 - 6 * k)) & 63]
  }
  return out
}

/** Standard base64 to base64url: `+` → `-`, `/` → `_`. */
export const toBase64Url = (text: string): string => text.replace(/\+/g, '-').replace(/\//g, '_')

/**
 * The base64 characters that encode `bytes` wherever they sit in a larger blob: for each of the
 * 3 byte alignments (0, 1 or 2 bytes before them), only the characters whose 6 bits all come
 * from `bytes`; the edge characters, which mix in the neighbours' bits, are left out. Finding
 * any of these in a text finds `bytes` inside e.g. `Basic base64(user:secret)`.
 */
export const base64Fragments = (bytes: Uint8Array): string[] => {
  const out: string[] = []
  for (let offset = 0; offset < 3; offset++) {
    const shifted = new Uint8Array(offset + bytes.length)
    shifted.set(bytes, offset)
    const start = Math.ceil((8 * offset) / 6)
    const end = Math.floor((8 * (offset + bytes.length)) / 6)
    if (end > start) out.push(encodeBase64(shifted).slice(start, end))
  }
  return out
}

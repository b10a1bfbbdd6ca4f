import { encodeBase64 } from '../encoding.ts'

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

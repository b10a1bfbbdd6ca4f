/**
 * SHA-256 (FIPS 180-4) of bytes, synchronously, in plain JavaScript: WebCrypto's digest is
 * asynchronous, and the token checks that use it run on every request. Replaces
 * `@noble/hashes` (≈ 5 KiB of the Worker bundle); checked against `crypto.subtle.digest` and the
 * FIPS test vectors in test/unit/sha256.test.ts.
 */

/** The first `count` primes. */
const primes = (count: number): number[] => {
  const out: number[] = []
  for (let n = 2; out.length < count; n++) if (out.every((p) => n % p !== 0)) out.push(n)
  return out
}

/** The first 32 bits of the fractional part of `x`. */
const fraction32 = (x: number): number => ((x - Math.floor(x)) * 0x1_0000_0000) >>> 0

const PRIMES = primes(64)

/**
 * FIPS 180-4 §4.2.2 and §5.3.3: the round constants are the first 32 bits of the fractional
 * parts of the cube roots of the first 64 primes, the initial hash those of the square roots of
 * the first 8. Computed once at load rather than written out (their table took ~0.7 KiB of the
 * Worker's gzip): exact in double precision (every scaled fraction is more than 0.02 from an
 * integer, `Math.cbrt` errs by under 1e-5 there), and checked against the FIPS test vectors.
 */
const K = Uint32Array.from(PRIMES, (p) => fraction32(Math.cbrt(p)))
const H0 = Uint32Array.from(PRIMES.slice(0, 8), (p) => fraction32(Math.sqrt(p)))

const rotr = (x: number, n: number): number => (x >>> n) | (x << (32 - n))

/** The SHA-256 digest of `data` (32 bytes). */
export const sha256Bytes = (data: Uint8Array): Uint8Array => {
  const bitLength = data.length * 8
  // Message, 0x80, zeros, then the 64-bit big-endian bit length: a multiple of 64 bytes.
  const padded = new Uint8Array(Math.ceil((data.length + 9) / 64) * 64)
  padded.set(data)
  padded[data.length] = 0x80
  const view = new DataView(padded.buffer)
  view.setUint32(padded.length - 8, Math.floor(bitLength / 0x1_0000_0000))
  view.setUint32(padded.length - 4, bitLength >>> 0)
  const h = H0.slice()
  const w = new Uint32Array(64)
  for (let offset = 0; offset < padded.length; offset += 64) {
    for (let i = 0; i < 16; i++) w[i] = view.getUint32(offset + i * 4)
    for (let i = 16; i < 64; i++) {
      const a = w[i - 15] as number
      const b = w[i - 2] as number
      const s0 = rotr(a, 7) ^ rotr(a, 18) ^ (a >>> 3)
      const s1 = rotr(b, 17) ^ rotr(b, 19) ^ (b >>> 10)
      w[i] = ((w[i - 16] as number) + s0 + (w[i - 7] as number) + s1) | 0
    }
    let a = h[0] as number
    let b = h[1] as number
    let c = h[2] as number
    let d = h[3] as number
    let e = h[4] as number
    let f = h[5] as number
    let g = h[6] as number
    let hh = h[7] as number
    for (let i = 0; i < 64; i++) {
      const s1 = rotr(e, 6) ^ rotr(e, 11) ^ rotr(e, 25)
      const ch = (e & f) ^ (~e & g)
      const t1 = (hh + s1 + ch + (K[i] as number) + (w[i] as number)) | 0
      const s0 = rotr(a, 2) ^ rotr(a, 13) ^ rotr(a, 22)
      const t2 = (s0 + ((a & b) ^ (a & c) ^ (b & c))) | 0
      hh = g
      g = f
      f = e
      e = (d + t1) | 0
      d = c
      c = b
      b = a
      a = (t1 + t2) | 0
    }
    const state = [a, b, c, d, e, f, g, hh]
    // Uint32Array stores modulo 2^32.
    for (let i = 0; i < 8; i++) h[i] = (h[i] as number) + (state[i] as number)
  }
  const out = new Uint8Array(32)
  const outView = new DataView(out.buffer)
  for (let i = 0; i < 8; i++) outView.setUint32(i * 4, h[i] as number)
  return out
}

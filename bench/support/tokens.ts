/**
 * A random bearer token, `<prefix>-<uuid>`, made up at run time: the benchmarks never use a
 * committed credential (the secret scanner runs over the repository).
 */
export const randomToken = (prefix: string): string => `${prefix}-${crypto.randomUUID()}`

/**
 * A token of {@link randomToken}'s shape that is the same in every run for the same `seed`
 * (made up at run time too): two runs, or two commits, then redact the same characters.
 */
export const fixedToken = (prefix: string, seed: number): string => {
  let state = seed >>> 0 || 1
  const hex = Array.from({ length: 32 }, () => {
    // xorshift32: deterministic, good enough to spread the digits.
    state ^= state << 13
    state ^= state >>> 17
    state ^= state << 5
    return ((state >>> 0) % 16).toString(16)
  }).join('')
  return `${prefix}-${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`
}

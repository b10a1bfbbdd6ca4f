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

/** The keys a benchmark that redacts a stream relays with: see {@link fixedKeys}. */
export interface BenchKeys {
  /** The Anthropic API key, of the stubs' shape (`sk-ant-<uuid>`). */
  readonly apiKey: string
  /** The client token keyline is called with. */
  readonly clientToken: string
}

/**
 * The same stub-shaped API key and client token in every run, made up at run time: how much of
 * a stream the redaction scan looks at closely depends on the characters the keys hold, so the
 * streaming and redaction benchmarks (2, 4, `sse-cpu.ts`, `profile-sse.ts --fixed`) use these
 * and compare across runs and commits on equal terms.
 */
export const fixedKeys = (): BenchKeys => ({
  apiKey: fixedToken('sk-ant', 1),
  clientToken: fixedToken('bench-client', 2),
})

import { compileMatcher, type SecretMatcher } from './matcher.ts'

/**
 * A bounded least-recently-used cache of compiled matchers keyed by their set of secret values
 * (order and duplicates ignored), so redacting with the secrets of each request costs one map
 * look-up while those secrets are unchanged. Rotation adds an entry; old ones age out.
 */
export class MatcherCache {
  readonly #max: number
  readonly #minLength: number
  readonly #entries = new Map<string, SecretMatcher>()

  constructor(max: number, minLength: number) {
    this.#max = Math.max(1, max)
    this.#minLength = minLength
  }

  /** How many matchers are cached. */
  get size(): number {
    return this.#entries.size
  }

  /** The matcher for `secrets`, compiled on first use. */
  get(secrets: readonly string[]): SecretMatcher {
    const values = [...new Set(secrets)].sort()
    const key = JSON.stringify(values)
    const hit = this.#entries.get(key)
    if (hit) {
      this.#entries.delete(key)
      this.#entries.set(key, hit)
      return hit
    }
    const matcher = compileMatcher(values, this.#minLength)
    this.#entries.set(key, matcher)
    while (this.#entries.size > this.#max) {
      const oldest = this.#entries.keys().next().value
      if (oldest === undefined) break
      this.#entries.delete(oldest)
    }
    return matcher
  }
}

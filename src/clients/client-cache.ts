/**
 * Keeps one client per provider for as long as that provider's generation is unchanged, so
 * requests reuse a client and a rotated secret yields a new one with no restart.
 */
export class ClientCache<T> {
  readonly #entries = new Map<string, { generation: number; client: T }>()

  /** The cached client of `key` at `generation`, built by `build` when missing or stale. */
  get(key: string, generation: number, build: () => T): T {
    const entry = this.#entries.get(key)
    if (entry && entry.generation === generation) return entry.client
    const client = build()
    this.#entries.set(key, { generation, client })
    return client
  }

  /** Drops every cached client. */
  clear(): void {
    this.#entries.clear()
  }
}

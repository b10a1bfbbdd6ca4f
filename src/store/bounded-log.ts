/**
 * A bounded log kept as one JSON array in a store (newest first, one entry per id): how the
 * rotation events log merges what it adds into what is stored, in one place for every store —
 * the caller's read-merge-write under a lock (KV, Redis), or one atomic step where the store
 * can (`appendLog`: memory, a Durable Object).
 */

/** What a log entry needs: an id that sorts like the time it was made. */
export interface LogEntry {
  readonly id: string
}

/** How many entries a log keeps. */
export interface LogLimits {
  /** Entries kept; older ones are dropped. */
  readonly limit: number
  /**
   * Entries whose field `[0]` is `[1]` are kept apart, at most `[2]` of them: they never push
   * the others out.
   */
  readonly apart?: readonly [field: string, value: string, limit: number]
}

/** The entries of a stored log; anything else (absent, not JSON, not a list) is none. */
export const parseLog = (text: string | null): LogEntry[] => {
  try {
    const list: unknown = JSON.parse(text ?? '[]')
    return Array.isArray(list) ? list.filter((e) => typeof e?.id === 'string') : []
  } catch {
    return []
  }
}

/**
 * `stored` with `added`, newest first, one per id (an entry added again replaces the stored
 * one), within `limits`.
 */
export const mergeLog = <T extends LogEntry>(
  stored: readonly T[],
  added: readonly T[],
  limits: LogLimits
): T[] => {
  const byId = new Map<string, T>()
  for (const entry of [...stored, ...added]) byId.set(entry.id, entry)
  const [field, value, apartLimit] = limits.apart ?? ['', undefined, 0]
  let kept = 0
  let apart = 0
  return [...byId.values()]
    .sort((a, b) => (a.id < b.id ? 1 : a.id > b.id ? -1 : 0))
    .filter((e) =>
      (e as unknown as Record<string, unknown>)[field] === value
        ? ++apart <= apartLimit
        : ++kept <= limits.limit
    )
}

import {
  type ClientLimits,
  type ClientUsage,
  type CounterEngine,
  type Limit,
  type LimitCount,
  REFUSED_WINDOW,
  refuses,
  type Take,
  windowEnd,
  windowIndex,
} from './limits.ts'

/** One counter: its window's index and its count. */
export type Counter = { w: number; n: number }

/** A memory engine, and its counters (a Durable Object stores them). */
export interface MemoryEngine extends CounterEngine {
  readonly counters: Map<string, Counter>
}

/**
 * The counters of one instance, in its memory: exact for one process or one Durable Object,
 * shared with nobody. Synchronous inside; the promises only fit {@link CounterEngine}.
 */
export const memoryEngine = (counters: Map<string, Counter> = new Map()): MemoryEngine => {
  const read = (client: string, limit: Limit, now: number): Counter => {
    const key = `${client}:${limit.key}`
    const w = windowIndex(limit, now)
    let found = counters.get(key)
    if (found?.w !== w) {
      found = { w, n: 0 }
      counters.set(key, found)
    }
    return found
  }
  const count = (limit: Limit, n: number, now: number): LimitCount => ({
    kind: limit.kind,
    limit: limit.limit,
    used: n,
    resetAt: windowEnd(limit, now),
  })
  return {
    kind: 'memory',
    counters,
    take(client: ClientLimits, now: number): Promise<Take> {
      const found = client.limits.map((limit) => read(client.name, limit, now))
      const refusing = client.limits.findIndex((limit, i) => refuses(limit, found[i]?.n ?? 0))
      if (refusing >= 0) read(client.name, REFUSED_WINDOW, now).n++
      else client.limits.forEach((limit, i) => limit.requests && (found[i] as Counter).n++)
      return Promise.resolve({
        refused: client.limits[refusing]?.kind,
        counts: client.limits.map((limit, i) => count(limit, found[i]?.n ?? 0, now)),
      })
    },
    charge(client: ClientLimits, tokens: number, now: number): Promise<void> {
      for (const limit of client.limits)
        if (!limit.requests) read(client.name, limit, now).n += tokens
      return Promise.resolve()
    },
    usage(client: ClientLimits, now: number): Promise<ClientUsage> {
      return Promise.resolve({
        counts: client.limits.map((limit) => count(limit, read(client.name, limit, now).n, now)),
        refused: read(client.name, REFUSED_WINDOW, now).n,
      })
    },
  }
}

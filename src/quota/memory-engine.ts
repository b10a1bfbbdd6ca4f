import {
  type ClientLimits,
  type CounterEngine,
  countOf,
  type Limit,
  REFUSED,
  windowIndex,
} from './limits.ts'

/** One counter: its window's index and its count. */
export type Counter = { w: number; n: number }

/**
 * The counters of one instance, in its memory: exact for one process or one Durable Object
 * (which keeps `counters` in its storage), shared with nobody.
 */
export const memoryEngine = (counters: Map<string, Counter> = new Map()): CounterEngine => {
  const read = (client: ClientLimits, limit: Limit, now: number): Counter => {
    const key = `${client.name}:${limit.kind}`
    const w = windowIndex(limit, now)
    let found = counters.get(key)
    if (found?.w !== w) {
      found = { w, n: 0 }
      counters.set(key, found)
    }
    return found
  }
  const usage = async (client: ClientLimits, now: number) => ({
    counts: [...client.limits, REFUSED].map((l) => countOf(l, read(client, l, now).n, now)),
  })
  return {
    kind: 'memory',
    take(client, now) {
      const refused = client.limits.find((limit) => read(client, limit, now).n >= limit.limit)
      for (const limit of refused ? [REFUSED] : client.limits) {
        if (limit.requests) read(client, limit, now).n++
      }
      return usage(client, now).then((counts) => ({ ...counts, refused: refused?.kind as never }))
    },
    async charge(client, tokens, now) {
      for (const limit of client.limits) if (!limit.requests) read(client, limit, now).n += tokens
    },
    usage,
  }
}

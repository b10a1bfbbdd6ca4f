/**
 * The quota counters of a Worker: one Durable Object per client name (the `KEYLINE_LIMITS`
 * namespace), which runs one request at a time and so counts exactly across every isolate,
 * unlike KV. The object is {@link ClientLimitsObject}; the Worker entry exports it.
 */
import type { CounterEngine } from './limits.ts'
import { type Counter, memoryEngine } from './memory-engine.ts'

/** The parts of a Durable Object namespace binding this engine uses. */
export interface LimitsNamespace {
  idFromName(name: string): unknown
  get(id: never): { fetch(url: string, init: RequestInit): Promise<Response> }
}

/** The counters of `namespace`: one round trip to the client's object per operation. */
export const durableEngine = (namespace: LimitsNamespace): CounterEngine => {
  const call =
    (op: string) =>
    async (client: { name: string }, ...args: number[]): Promise<never> => {
      const answer = await namespace
        .get(namespace.idFromName(client.name) as never)
        .fetch('https://limits', { method: 'POST', body: JSON.stringify([op, client, ...args]) })
      if (!answer.ok) throw new Error(`limits object: HTTP ${answer.status}`)
      return answer.json() as never
    }
  return {
    kind: 'durable-object',
    take: call('take'),
    charge: call('charge'),
    usage: call('usage'),
  }
}

/** The parts of a Durable Object's state the object uses. */
interface ObjectState {
  readonly storage: {
    get<T>(key: string): Promise<T | undefined>
    put(key: string, value: unknown): Promise<void>
  }
  blockConcurrencyWhile(run: () => Promise<void>): Promise<void>
}

/**
 * The Durable Object of one client's counters (class `ClientLimits` in wrangler.toml): the
 * memory engine, its counters kept in the object's storage so a restarted object counts on.
 */
export class ClientLimitsObject {
  readonly #storage: ObjectState['storage']
  readonly #counters = new Map<string, Counter>()
  readonly #engine = memoryEngine(this.#counters)

  constructor(state: ObjectState) {
    this.#storage = state.storage
    void state.blockConcurrencyWhile(async () => {
      for (const [key, counter] of (await state.storage.get<[string, Counter][]>('c')) ?? []) {
        this.#counters.set(key, counter)
      }
    })
  }

  async fetch(request: Request): Promise<Response> {
    const [op, client, ...args] = (await request.json()) as [
      'take' | 'charge' | 'usage',
      never,
      number,
    ]
    const answer = await (this.#engine[op] as (...a: unknown[]) => Promise<unknown>)(
      client,
      ...args
    )
    if (op !== 'usage') await this.#storage.put('c', [...this.#counters])
    return Response.json(answer ?? 0)
  }
}

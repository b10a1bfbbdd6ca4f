/**
 * The quota counters of a Worker: one Durable Object per client name (the `KEYLINE_LIMITS`
 * namespace), which runs one request at a time and so counts exactly across every isolate,
 * unlike KV. The object itself is {@link ClientLimitsObject}; the Worker entry exports it.
 */
import type { ClientLimits, ClientUsage, CounterEngine, Take } from './limits.ts'
import { type Counter, memoryEngine } from './memory-engine.ts'

/** The parts of a Durable Object namespace binding this engine uses. */
export interface LimitsNamespace {
  idFromName(name: string): unknown
  get(id: never): { fetch(url: string, init: RequestInit): Promise<Response> }
}

/** Whether a binding is a Durable Object namespace. */
export const isLimitsNamespace = (value: unknown): value is LimitsNamespace =>
  typeof (value as LimitsNamespace | undefined)?.idFromName === 'function'

/** The counters of `namespace`: one round trip to the client's object per operation. */
export const durableEngine = (namespace: LimitsNamespace): CounterEngine => {
  const call = async <T>(op: string, client: ClientLimits, now: number, tokens = 0): Promise<T> => {
    const stub = namespace.get(namespace.idFromName(client.name) as never)
    const answer = await stub.fetch(`https://limits/${op}`, {
      method: 'POST',
      body: JSON.stringify({ client, now, tokens }),
    })
    if (!answer.ok) throw new Error(`limits object answered HTTP ${answer.status}`)
    return (await answer.json()) as T
  }
  return {
    kind: 'durable-object',
    take: (client, now) => call<Take>('take', client, now),
    charge: (client, tokens, now) => call<void>('charge', client, now, tokens),
    usage: (client, now) => call<ClientUsage>('usage', client, now),
  }
}

/** The parts of a Durable Object's state the object uses. */
interface ObjectState {
  readonly storage: {
    get<T>(key: string): Promise<T | undefined>
    put(key: string, value: unknown): Promise<void>
  }
  blockConcurrencyWhile<T>(run: () => Promise<T>): Promise<T>
}

/**
 * The Durable Object of one client's counters (class `ClientLimits` in wrangler.toml): the
 * memory engine's counters, kept in the object's storage so a restarted object goes on counting.
 */
export class ClientLimitsObject {
  readonly #state: ObjectState
  #counters = new Map<string, Counter>()

  constructor(state: ObjectState) {
    this.#state = state
    void state.blockConcurrencyWhile(async () => {
      this.#counters = new Map(await state.storage.get<[string, Counter][]>('counters'))
    })
  }

  async fetch(request: Request): Promise<Response> {
    const { client, now, tokens } = (await request.json()) as {
      client: ClientLimits
      now: number
      tokens: number
    }
    const engine = memoryEngine(this.#counters)
    const op = new URL(request.url).pathname
    const answer =
      op === '/take'
        ? await engine.take(client, now)
        : op === '/charge'
          ? await engine.charge(client, tokens, now)
          : await engine.usage(client, now)
    if (op !== '/usage') await this.#state.storage.put('counters', [...this.#counters])
    return Response.json(answer ?? null)
  }
}

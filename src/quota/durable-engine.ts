/**
 * The quota counters of a Worker: one Durable Object per client name (the `KEYLINE_LIMITS`
 * namespace), which runs one request at a time and so counts exactly across every isolate,
 * unlike KV. The object is {@link ClientLimitsObject}; the Worker entry exports it. The same
 * class, as the object `keyline:state`, holds the Fyers refresh lock and the rotation events
 * log (store/durable-store.ts): one class, one binding.
 */
import {
  callObject,
  type DurableNamespace,
  type StateStorage,
  stateObject,
} from '../store/durable-store.ts'
import type { CounterEngine } from './limits.ts'
import { type Counter, memoryEngine } from './memory-engine.ts'

/** The parts of a Durable Object namespace binding this engine uses. */
export type LimitsNamespace = DurableNamespace

/** The counters of `namespace`: one round trip to the client's object per operation. */
export const durableEngine = (namespace: LimitsNamespace): CounterEngine => {
  const call =
    (op: string) =>
    (client: { name: string }, ...args: number[]): Promise<never> =>
      callObject(namespace, client.name, [op, client, ...args])
  return {
    kind: 'durable-object',
    take: call('take'),
    charge: call('charge'),
    usage: call('usage'),
  }
}

/** The parts of a Durable Object's state the object uses. */
interface ObjectState {
  readonly storage: StateStorage & {
    get<T>(key: string): Promise<T | undefined>
  }
  blockConcurrencyWhile(run: () => Promise<void>): Promise<void>
}

/**
 * The Durable Object of one client's counters (class `ClientLimits` in wrangler.toml): the
 * memory engine, its counters kept in the object's storage so a restarted object counts on;
 * as the object `keyline:state`, the shared state's calls (`get`, `lock`, `appendLog`, …).
 */
export class ClientLimitsObject {
  readonly #storage: ObjectState['storage']
  readonly #counters = new Map<string, Counter>()
  readonly #engine = memoryEngine(this.#counters)
  readonly #state: ReturnType<typeof stateObject>

  constructor(state: ObjectState) {
    this.#storage = state.storage
    this.#state = stateObject(state.storage)
    void state.blockConcurrencyWhile(async () => {
      for (const [key, counter] of (await state.storage.get<[string, Counter][]>('c')) ?? []) {
        this.#counters.set(key, counter)
      }
      await this.#state.load()
    })
  }

  async fetch(request: Request): Promise<Response> {
    const [op, ...args] = (await request.json()) as [string, ...unknown[]]
    if (op !== 'take' && op !== 'charge' && op !== 'usage') {
      return Response.json(await this.#state.answer(op, args))
    }
    const answer = await (this.#engine[op] as (...a: unknown[]) => Promise<unknown>)(...args)
    if (op !== 'usage') await this.#storage.put('c', [...this.#counters])
    return Response.json(answer ?? 0)
  }
}

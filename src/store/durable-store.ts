/**
 * The state a Worker's isolates share in a Durable Object (the `KEYLINE_LIMITS` namespace, the
 * object named `keyline:state`): the Fyers refresh lock and the rotation events log. A Durable
 * Object runs one request at a time, so its lock is a real compare-and-set and an append is one
 * atomic step with no write limit per key, unlike KV (best-effort lock, one write a second per
 * key). The object keeps a {@link memoryStore} over its persisted entries; the quota object
 * (`ClientLimits`) answers these calls beside its counters. Without the binding, KV stays.
 */
import { CLIENT_LIMITS_BINDING } from '../catalog/keyline.ts'
import type { MemoryEntry } from './memory-store.ts'
import { memoryStore } from './memory-store.ts'
import type { SharedStore } from './shared-store.ts'
import { checkLock, expiry } from './store-arguments.ts'
import { boundStore } from './store-deadline.ts'

/** The parts of a Durable Object namespace binding keyline uses. */
export interface DurableNamespace {
  idFromName(name: string): unknown
  get(id: never): { fetch(url: string, init: RequestInit): Promise<Response> }
}

/** The name of the one object that holds the shared state (no client name has a `:`). */
export const STATE_OBJECT = 'keyline:state'

/** Sends `[op, ...args]` to the object `name` of `namespace`: its JSON answer. */
export const callObject = async (
  namespace: DurableNamespace,
  name: string,
  body: readonly unknown[]
): Promise<never> => {
  const answer = await namespace
    .get(namespace.idFromName(name) as never)
    .fetch('https://keyline', { method: 'POST', body: JSON.stringify(body) })
  if (!answer.ok) throw new Error(`durable object: HTTP ${answer.status}`)
  return answer.json() as never
}

/**
 * The store in the `keyline:state` object of `namespace`: one round trip per call; bad
 * arguments are refused here, as every store refuses them.
 */
export const durableStore = (namespace: DurableNamespace): SharedStore => {
  const call =
    (op: string) =>
    async (...args: unknown[]): Promise<never> =>
      callObject(namespace, STATE_OBJECT, [op, ...args])
  return {
    kind: 'durable-object',
    get: call('get'),
    async put(key, value, put = {}) {
      expiry(0, put.ttlSeconds)
      return call('put')(key, value, put)
    },
    delete: call('delete'),
    async lock(key, owner, ttlMs) {
      checkLock(owner, ttlMs)
      return call('lock')(key, owner, ttlMs)
    },
    unlock: call('unlock'),
    appendLog: call('appendLog'),
  }
}

/**
 * The store on the `KEYLINE_LIMITS` binding of a Workers env, each call bounded by
 * `KEYLINE_STORE_TIMEOUT_MS`; `undefined` when it is not bound.
 */
export const durableStoreFromEnv = (
  env: Readonly<Record<string, unknown>> | undefined
): SharedStore | undefined =>
  boundStore(env, CLIENT_LIMITS_BINDING, isDurableNamespace, durableStore)

const isDurableNamespace = (value: unknown): value is DurableNamespace =>
  typeof (value as Partial<DurableNamespace> | undefined)?.idFromName === 'function'

/**
 * `store` (KV) with its lock in the Durable Object of `env` when one is bound: the Fyers vault
 * stays in KV, the refresh lock becomes a compare-and-set. `store` itself otherwise.
 */
export const withDurableLock = (
  store: SharedStore | undefined,
  env: Readonly<Record<string, unknown>> | undefined
): SharedStore | undefined => {
  const durable = store && durableStoreFromEnv(env)
  if (!durable) return store
  let locked = withLock.get(store)
  if (!locked) {
    locked = { ...store, lock: durable.lock, unlock: durable.unlock }
    withLock.set(store, locked)
  }
  return locked
}

const withLock = new WeakMap<SharedStore, SharedStore>()

/** The parts of a Durable Object's storage the state uses. */
export interface StateStorage {
  list<T>(options: { prefix: string }): Promise<Map<string, T>>
  put(key: string, value: unknown): Promise<void>
  delete(key: string): Promise<boolean>
}

/**
 * The object side: answers a {@link durableStore} call from a memory store whose entries are
 * kept in `storage` (one storage key per entry, written when it changes). Call `load` first.
 */
export const stateObject = (
  storage: StateStorage
): { load(): Promise<void>; answer(op: string, args: unknown[]): Promise<unknown> } => {
  const entries = new Map<string, MemoryEntry>()
  const store = memoryStore({ entries }) as unknown as Record<string, unknown>
  return {
    async load() {
      for (const [key, entry] of await storage.list<MemoryEntry>({ prefix: 's:' })) {
        entries.set(key.slice(2), entry)
      }
    },
    async answer(op, args) {
      // Only the Worker's own calls reach the object (a name it lacks throws: HTTP 500).
      const answer = await (store[op] as (...a: unknown[]) => Promise<unknown>)(...args)
      if (op !== 'get') {
        const key = String(args[0])
        const entry = entries.get(key)
        await (entry ? storage.put(`s:${key}`, entry) : storage.delete(`s:${key}`))
      }
      return answer ?? null
    },
  }
}

import { within } from '../bounded-wait.ts'
import { toHex } from '../encoding.ts'
import type { EnvRecord } from '../env.ts'
import { type LockState, releaseLock, takeLock } from '../store/lock.ts'
import { memoryStore } from '../store/memory-store.ts'
import type { SharedStore } from '../store/shared-store.ts'

/** What a rotation event records. */
export type RotationAction =
  | 'reload'
  | 'validate'
  | 'promote'
  | 'failover'
  | 'fyers-refresh'
  | 'fyers-login'
  | 'fyers-sign-in'
  | 'fyers-trade'

/** The actions {@link RotationEvents} keeps; anything else (e.g. `status`) is not an event. */
export const ROTATION_ACTIONS: readonly RotationAction[] = [
  'reload',
  'validate',
  'promote',
  'failover',
  'fyers-refresh',
  'fyers-login',
  'fyers-sign-in',
  'fyers-trade',
]

/** Whether an audited action is a rotation event. */
export const isRotationAction = (action: string): action is RotationAction =>
  (ROTATION_ACTIONS as readonly string[]).includes(action)

/** One entry of the rotation events log: who did what, how it ended, when. Never a secret. */
export interface RotationEvent {
  /** Sorts like its time (newest last); the `before` cursor of `GET /admin/events`. */
  readonly id: string
  /** ISO time. */
  readonly at: string
  /**
   * The admin token's fingerprint (`…ABCD`), `system` (failover, timer, cron, on demand), or
   * `client:<name>` (a Fyers trading call).
   */
  readonly who: string
  readonly action: RotationAction
  readonly provider: string | null
  readonly result: 'ok' | 'rejected' | 'error'
  /** A short sentence or code: the error type, the fingerprints, the trigger. */
  readonly detail: string | null
}

/** What a caller gives {@link RotationEvents.record}; `id` and `at` are added. */
export type RotationEventInput = Omit<RotationEvent, 'id' | 'at'> & { readonly at?: number }

/** One page of `GET /admin/events`. */
export interface RotationEventsPage {
  /** Newest first. */
  readonly events: readonly RotationEvent[]
  /** The `before` of the next (older) page, or `null` when this page is the last. */
  readonly next: string | null
}

/** Options of {@link RotationEvents}. */
export interface RotationEventsOptions {
  /**
   * The store the instances share, per environment (KV on Workers, Redis on Node and Deno).
   * @default none: a store in this instance's memory
   */
  store?: (env: EnvRecord) => SharedStore | undefined
  /**
   * How many events are kept; older ones are dropped.
   * @default 500
   */
  limit?: number
  /** Where a failure to store an event is logged (the event is then lost). @default console */
  log?: (line: Record<string, unknown>) => void
  /** Clock, for tests. @default Date.now */
  now?: () => number
}

/** The store key of the log (one JSON array, newest first). */
export const EVENTS_KEY = 'keyline:events'
/** The lock that serializes appends across instances (atomic on Redis, best effort on KV). */
export const EVENTS_LOCK = 'keyline:lock:events'
/** Events kept by default. */
export const DEFAULT_EVENTS_LIMIT = 500
/** Largest page of `GET /admin/events`. */
export const MAX_EVENTS_PAGE = 100

const LOCK_TTL_MS = 5_000
const LOCK_TRIES = 10
/** How long recording an event may hold up an answer. */
const RECORD_WAIT_MS = 1_000
const ID = /^[0-9a-z]{9,}-[0-9a-f]{8}$/

const isEvent = (value: unknown): value is RotationEvent => {
  const e = value as Partial<RotationEvent> | null
  return typeof e?.id === 'string' && typeof e.at === 'string' && typeof e.action === 'string'
}

const parse = (text: string | null): RotationEvent[] => {
  if (!text) return []
  try {
    const list: unknown = JSON.parse(text)
    return Array.isArray(list) ? list.filter(isEvent) : []
  } catch {
    return []
  }
}

const randomHex = (): string => {
  const bytes = crypto.getRandomValues(new Uint8Array(4))
  return toHex(bytes)
}

/** Whether `value` is a well-formed event id (a `before` cursor). */
export const isEventId = (value: string): boolean => ID.test(value)

/**
 * The bounded log of rotation events (reloads, validations, promotions, failovers, Fyers
 * refreshes and sign-ins), kept as one JSON array in the shared store so every instance sees
 * every event: KV on Workers, Redis on Node and Deno replicas, else this instance's memory.
 * Appends are serialized in the instance and, through a lock, across instances; a store that
 * fails loses the event (logged), never the action that caused it.
 */
export class RotationEvents {
  readonly #store: (env: EnvRecord) => SharedStore | undefined
  readonly #limit: number
  readonly #log: (line: Record<string, unknown>) => void
  readonly #now: () => number
  readonly #memory: SharedStore
  #queue: Promise<void> = Promise.resolve()
  #last = 0

  constructor(options: RotationEventsOptions = {}) {
    const limit = options.limit ?? DEFAULT_EVENTS_LIMIT
    if (!Number.isInteger(limit) || limit < 1) {
      throw new TypeError('RotationEvents: limit must be a positive integer')
    }
    this.#store = options.store ?? (() => undefined)
    this.#limit = limit
    this.#log = options.log ?? ((line) => console.log(JSON.stringify(line)))
    this.#now = options.now ?? Date.now
    this.#memory = memoryStore({ now: this.#now })
  }

  #storeOf(env: EnvRecord): SharedStore {
    return this.#store(env) ?? this.#memory
  }

  /**
   * Appends events (in order); resolves once they are stored, or after a second at most (the
   * append goes on): a slow store delays no answer longer. Never throws.
   */
  record(env: EnvRecord, ...inputs: readonly RotationEventInput[]): Promise<void> {
    if (inputs.length === 0) return Promise.resolve()
    const events = inputs.map((input) => this.#event(input))
    const run = this.#queue.then(() => this.#append(env, events))
    this.#queue = run
    return within(run, RECORD_WAIT_MS).then(() => undefined)
  }

  #event(input: RotationEventInput): RotationEvent {
    // Strictly increasing in this instance, so ids sort like the order events happened in.
    const ms = Math.max(input.at ?? this.#now(), this.#last + 1)
    this.#last = ms
    const { at: _at, ...rest } = input
    return {
      id: `${ms.toString(36).padStart(9, '0')}-${randomHex()}`,
      at: new Date(ms).toISOString(),
      ...rest,
    }
  }

  async #append(env: EnvRecord, events: readonly RotationEvent[]): Promise<void> {
    const owner = randomHex()
    let lock: LockState = 'unavailable'
    let store: SharedStore | undefined
    try {
      store = this.#storeOf(env)
      lock = await takeLock(store, EVENTS_LOCK, owner, {
        ttlMs: LOCK_TTL_MS,
        waitMs: (LOCK_TRIES - 1) * 50,
        pollMs: 50,
      })
      // Without the lock after a while, append anyway: a lost race beats a lost event.
      const list = parse(await store.get(EVENTS_KEY))
      const merged = [...events].reverse().concat(list)
      merged.sort((a, b) => (a.id < b.id ? 1 : a.id > b.id ? -1 : 0))
      await store.put(EVENTS_KEY, JSON.stringify(merged.slice(0, this.#limit)))
    } catch {
      this.#log({ level: 'warn', msg: 'rotation event not stored: the shared store failed' })
    } finally {
      if (store && lock === 'taken') await releaseLock(store, EVENTS_LOCK, owner)
    }
  }

  /**
   * One page, newest first: at most `limit` events older than the event `before` (all when
   * absent).
   */
  async list(
    env: EnvRecord,
    page: { before?: string; limit?: number } = {}
  ): Promise<RotationEventsPage> {
    await within(this.#queue, RECORD_WAIT_MS)
    const limit = Math.min(Math.max(1, page.limit ?? 50), MAX_EVENTS_PAGE)
    const all = parse(await this.#storeOf(env).get(EVENTS_KEY))
    const { before } = page
    const older = before === undefined ? all : all.filter((e) => e.id < before)
    const events = older.slice(0, limit)
    const next = older.length > limit ? (events.at(-1)?.id ?? null) : null
    return { events, next }
  }
}

import { within } from '../bounded-wait.ts'
import { toHex } from '../encoding.ts'
import type { EnvRecord } from '../env.ts'
import { KeylineError } from '../errors/keyline-error.ts'
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

/** The actions {@link RotationEvents} keeps; anything else (e.g. `status`) is not an event. */
export const ROTATION_ACTIONS: readonly RotationAction[] = [
  'reload',
  'validate',
  'promote',
  'failover',
  'fyers-refresh',
  'fyers-login',
  'fyers-sign-in',
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
   * The admin token's fingerprint (`…ABCD`), `system` (failover, timer, cron, on demand),
   * `sign-in link` (a completed Fyers sign-in), or `unauthenticated`: one line a minute counting
   * the rejected requests that carried no admin credential.
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
  /**
   * How many per-minute lines of unauthenticated rejections are kept, apart from `limit`: they
   * never push an admin or system event out.
   * @default 60
   */
  unauthenticatedLimit?: number
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
/** The `who` of the per-minute line counting rejected requests without an admin credential. */
export const UNAUTHENTICATED = 'unauthenticated'
/** Per-minute lines of unauthenticated rejections kept by default (an hour of them). */
export const DEFAULT_UNAUTHENTICATED_LIMIT = 60
/** One line per this window counts the unauthenticated rejections in it. */
const TALLY_WINDOW_MS = 60_000
/** A line's count is written again at most this often (and whenever the log is read). */
const TALLY_WRITE_MS = 10_000

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

/** The running count of one minute's unauthenticated rejections of one action. */
interface Tally {
  readonly window: number
  /** Epoch ms of the first rejection: the line's id and time. */
  readonly ms: number
  readonly id: string
  readonly action: RotationAction
  readonly provider: string | null
  count: number
  /** The error type of the latest rejection. */
  last: string | null
  /** The count last written, and when. */
  written: number
  writtenAt: number
}

const tallyDetail = (t: Tally): string => {
  const what = t.action === 'fyers-sign-in' ? 'callback' : `${t.action} request`
  return `${t.count} rejected ${what}${t.count === 1 ? '' : 's'}${t.last ? ` (last: ${t.last})` : ''}`
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
  readonly #unauthenticatedLimit: number
  readonly #tallies = new Map<string, Tally>()
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
    const unauthenticatedLimit = options.unauthenticatedLimit ?? DEFAULT_UNAUTHENTICATED_LIMIT
    if (!Number.isInteger(unauthenticatedLimit) || unauthenticatedLimit < 1) {
      throw new TypeError('RotationEvents: unauthenticatedLimit must be a positive integer')
    }
    this.#store = options.store ?? (() => undefined)
    this.#limit = limit
    this.#unauthenticatedLimit = unauthenticatedLimit
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
    return this.#enqueue(
      env,
      inputs.map((input) => this.#event(input))
    )
  }

  /**
   * Counts a rejected request that carried no admin credential (a `GET /admin/fyers/callback`
   * anyone can send, from an `<img>` on any page): not one event each, but one line a minute
   * per action, `N rejected callbacks`, written when the minute's first one comes, then at most
   * every 10 s and whenever the log is read. Those lines have their own budget
   * (`unauthenticatedLimit`): however many come, no admin or system event is pushed out.
   */
  recordUnauthenticated(env: EnvRecord, input: RotationEventInput): Promise<void> {
    const now = this.#now()
    const window = Math.floor(now / TALLY_WINDOW_MS)
    const key = `${input.action}:${input.provider}`
    const due: RotationEvent[] = []
    let tally = this.#tallies.get(key)
    if (tally && tally.window !== window) {
      if (tally.count !== tally.written) due.push(this.#tallyEvent(tally, now))
      tally = undefined
    }
    if (!tally) {
      const ms = this.#nextMs(now)
      tally = {
        window,
        ms,
        id: this.#idOf(ms),
        action: input.action,
        provider: input.provider,
        count: 0,
        last: null,
        written: 0,
        writtenAt: Number.NEGATIVE_INFINITY,
      }
      this.#tallies.set(key, tally)
    }
    tally.count += 1
    tally.last = input.detail?.replace(/^error: /, '') ?? null
    if (tally.written === 0 || now - tally.writtenAt >= TALLY_WRITE_MS) {
      due.push(this.#tallyEvent(tally, now))
    }
    return due.length === 0 ? Promise.resolve() : this.#enqueue(env, due)
  }

  #tallyEvent(tally: Tally, now: number): RotationEvent {
    tally.written = tally.count
    tally.writtenAt = now
    return {
      id: tally.id,
      at: new Date(tally.ms).toISOString(),
      who: UNAUTHENTICATED,
      action: tally.action,
      provider: tally.provider,
      result: 'rejected',
      detail: tallyDetail(tally),
    }
  }

  /** The counts not written yet, for a read of the log to see them. */
  #unwrittenTallies(): RotationEvent[] {
    const now = this.#now()
    return [...this.#tallies.values()]
      .filter((t) => t.count !== t.written)
      .map((t) => this.#tallyEvent(t, now))
  }

  #enqueue(env: EnvRecord, events: readonly RotationEvent[]): Promise<void> {
    const run = this.#queue.then(() => this.#append(env, events))
    this.#queue = run
    return within(run, RECORD_WAIT_MS).then(() => undefined)
  }

  /** Strictly increasing in this instance, so ids sort like the order events happened in. */
  #nextMs(at: number): number {
    const ms = Math.max(at, this.#last + 1)
    this.#last = ms
    return ms
  }

  #idOf(ms: number): string {
    return `${ms.toString(36).padStart(9, '0')}-${randomHex()}`
  }

  #event(input: RotationEventInput): RotationEvent {
    const ms = this.#nextMs(input.at ?? this.#now())
    const { at: _at, ...rest } = input
    return { id: this.#idOf(ms), at: new Date(ms).toISOString(), ...rest }
  }

  /**
   * Newest first, one per id (a tally line written again replaces its earlier count), within
   * the two budgets: `limit` events, `unauthenticatedLimit` unauthenticated lines.
   */
  #merge(stored: readonly RotationEvent[], added: readonly RotationEvent[]): RotationEvent[] {
    const byId = new Map<string, RotationEvent>()
    for (const event of stored) byId.set(event.id, event)
    for (const event of added) byId.set(event.id, event)
    const all = [...byId.values()].sort((a, b) => (a.id < b.id ? 1 : a.id > b.id ? -1 : 0))
    let events = 0
    let unauthenticated = 0
    return all.filter((e) =>
      e.who === UNAUTHENTICATED
        ? ++unauthenticated <= this.#unauthenticatedLimit
        : ++events <= this.#limit
    )
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
      const merged = this.#merge(parse(await store.get(EVENTS_KEY)), events)
      await store.put(EVENTS_KEY, JSON.stringify(merged))
    } catch {
      this.#log({ level: 'warn', msg: 'rotation event not stored: the shared store failed' })
    } finally {
      if (store && lock === 'taken') await releaseLock(store, EVENTS_LOCK, owner)
    }
  }

  /**
   * One page, newest first: at most `limit` events older than the event `before` (all when
   * absent). A shared store that fails or does not answer in time is a 503 `store_unavailable`.
   */
  async list(
    env: EnvRecord,
    page: { before?: string; limit?: number } = {}
  ): Promise<RotationEventsPage> {
    const unwritten = this.#unwrittenTallies()
    await within(unwritten.length > 0 ? this.#enqueue(env, unwritten) : this.#queue, RECORD_WAIT_MS)
    const limit = Math.min(Math.max(1, page.limit ?? 50), MAX_EVENTS_PAGE)
    let all: RotationEvent[]
    try {
      all = parse(await this.#storeOf(env).get(EVENTS_KEY))
    } catch {
      throw new KeylineError(
        503,
        'store_unavailable',
        'The shared store did not answer: the rotation events cannot be read now, try again',
        { headers: { 'retry-after': '5' } }
      )
    }
    const { before } = page
    const older = before === undefined ? all : all.filter((e) => e.id < before)
    const events = older.slice(0, limit)
    const next = older.length > limit ? (events.at(-1)?.id ?? null) : null
    return { events, next }
  }
}

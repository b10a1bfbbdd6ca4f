import { within } from '../bounded-wait.ts'
import { toHex } from '../encoding.ts'
import type { EnvRecord } from '../env.ts'
import { KeylineError } from '../errors/keyline-error.ts'
import { type LogLimits, mergeLog, parseLog } from '../store/bounded-log.ts'
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
   * The admin token's fingerprint (`…ABCD`), `system` (failover, timer, cron, on demand),
   * `sign-in link` (a completed Fyers sign-in), `client:<name>` (a Fyers trading call), or
   * `unauthenticated`: one line a minute counting the rejected requests that carried no admin
   * credential.
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
   * The store the instances share, per environment (on Workers the `KEYLINE_LIMITS` Durable
   * Object when bound, else KV; Redis on Node and Deno).
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
/**
 * The lock that serializes appends across instances (atomic on Redis, best effort on KV); a
 * store with `appendLog` (memory, the Durable Object) needs none.
 */
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

const parse = (text: string | null): RotationEvent[] => parseLog(text).filter(isEvent)

const randomHex = (): string => {
  const bytes = crypto.getRandomValues(new Uint8Array(4))
  return toHex(bytes)
}

/** The running count of one minute's unauthenticated rejections. */
interface Tally {
  readonly window: number
  /** The line without its count: id and time of the minute's first rejection. */
  readonly event: RotationEvent
  count: number
  /** The detail of the latest rejection (its error type). */
  last?: string | null
  /** The count last written, and when. */
  written: number
  at: number
}

/** Whether `value` is a well-formed event id (a `before` cursor). */
export const isEventId = (value: string): boolean => ID.test(value)

/**
 * The bounded log of rotation events (reloads, validations, promotions, failovers, Fyers
 * refreshes and sign-ins), kept as one JSON array in the shared store so every instance sees
 * every event: on Workers the `KEYLINE_LIMITS` Durable Object (one atomic append each) or KV,
 * Redis on Node and Deno replicas, else this instance's memory. Appends are serialized in the
 * instance and, through the store's `appendLog` or a lock, across instances; a store that fails
 * loses the event (logged), never the action that caused it.
 */
export class RotationEvents {
  readonly #store: (env: EnvRecord) => SharedStore | undefined
  /** `limit` events, and apart from them `unauthenticatedLimit` unauthenticated lines. */
  readonly #limits: LogLimits
  #tally: Tally | undefined
  readonly #log: (line: Record<string, unknown>) => void
  readonly #now: () => number
  readonly #memory: SharedStore
  #queue: Promise<void> = Promise.resolve()
  #last = 0

  constructor(options: RotationEventsOptions = {}) {
    const limit = options.limit ?? DEFAULT_EVENTS_LIMIT
    const unauthenticatedLimit = options.unauthenticatedLimit ?? DEFAULT_UNAUTHENTICATED_LIMIT
    if (![limit, unauthenticatedLimit].every((n) => Number.isInteger(n) && n >= 1)) {
      throw new TypeError('RotationEvents: limits must be positive integers')
    }
    this.#store = options.store ?? (() => undefined)
    this.#limits = { limit, apart: ['who', UNAUTHENTICATED, unauthenticatedLimit] }
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
   *
   * An event whose `who` is {@link UNAUTHENTICATED} (a rejected request that carried no admin
   * credential: a `GET /admin/fyers/callback` anyone can send, from an `<img>` on any page) is
   * not stored one by one but counted: one line a minute, `N rejected callbacks`, written when
   * the minute's first one comes, then at most every 10 s and whenever the log is read. Those
   * lines have their own budget (`unauthenticatedLimit`): no admin or system event is pushed out.
   */
  record(env: EnvRecord, ...inputs: readonly RotationEventInput[]): Promise<void> {
    const now = this.#now()
    const due: RotationEvent[] = []
    for (const input of inputs) {
      if (input.who !== UNAUTHENTICATED) {
        due.push(this.#event(input))
        continue
      }
      const window = Math.floor(now / TALLY_WINDOW_MS)
      let tally = this.#tally
      if (tally?.window !== window) {
        if (tally && tally.count !== tally.written) due.push(this.#counted(tally, now))
        tally = { window, event: this.#event({ ...input, at: now }), count: 0, written: 0, at: 0 }
        this.#tally = tally
      }
      tally.count += 1
      tally.last = input.detail
      // `at` starts at 0: the minute's first one is written at once.
      if (now - tally.at >= TALLY_WRITE_MS) {
        due.push(this.#counted(tally, now))
      }
    }
    return due.length === 0 ? Promise.resolve() : this.#enqueue(env, due)
  }

  /** The tally's line with its count now, marked written. */
  #counted(tally: Tally, now: number): RotationEvent {
    tally.written = tally.count
    tally.at = now
    const { count, last } = tally
    const detail = `${count} rejected callback${count === 1 ? '' : 's'}${last ? ` (last ${last})` : ''}`
    return { ...tally.event, detail }
  }

  #enqueue(env: EnvRecord, events: readonly RotationEvent[]): Promise<void> {
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
      // One atomic step where the store can (memory, a Durable Object): nothing to lose.
      if (store.appendLog) return await store.appendLog(EVENTS_KEY, events, this.#limits)
      lock = await takeLock(store, EVENTS_LOCK, owner, {
        ttlMs: LOCK_TTL_MS,
        waitMs: (LOCK_TRIES - 1) * 50,
        pollMs: 50,
      })
      // Without the lock after a while, append anyway: a lost race beats a lost event.
      const merged = mergeLog(parse(await store.get(EVENTS_KEY)), events, this.#limits)
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
    const tally = this.#tally
    const unwritten = tally && tally.count !== tally.written && this.#counted(tally, this.#now())
    await within(unwritten ? this.#enqueue(env, [unwritten]) : this.#queue, RECORD_WAIT_MS)
    const limit = Math.min(Math.max(1, page.limit ?? 50), MAX_EVENTS_PAGE)
    let all: RotationEvent[]
    try {
      all = parse(await this.#storeOf(env).get(EVENTS_KEY))
    } catch {
      throw new KeylineError(503, 'store_unavailable', 'The shared store did not answer', {
        headers: { 'retry-after': '5' },
      })
    }
    const { before } = page
    const older = before === undefined ? all : all.filter((e) => e.id < before)
    const events = older.slice(0, limit)
    const next = older.length > limit ? (events.at(-1)?.id ?? null) : null
    return { events, next }
  }
}

/**
 * A deadline on every call to a shared store: a Redis that accepts connections but never
 * answers, a KV namespace or a file system that hangs, rejects within `ms` instead of holding
 * a request without limit. What the store does after the deadline is its own affair; the caller
 * has its answer (an error) and goes on with what it has.
 */
import { within } from '../bounded-wait.ts'
import type { SharedStore } from './shared-store.ts'

/** The variable that sets the deadline of one store call, in milliseconds. */
export const STORE_TIMEOUT_VARIABLE = 'KEYLINE_STORE_TIMEOUT_MS'

/** The deadline of one store call (connecting included) when the variable is not set. */
export const DEFAULT_STORE_TIMEOUT_MS = 250

/** The most a store call may be given, in milliseconds. */
const MAX_STORE_TIMEOUT_MS = 60_000

/**
 * `KEYLINE_STORE_TIMEOUT_MS` read: a whole number of milliseconds from 1 to 60000, `undefined`
 * when unset or empty, `null` when it is something else (then the default applies, and the
 * entries warn at start).
 */
export const parseStoreTimeout = (raw: unknown): number | null | undefined => {
  if (raw === undefined || raw === null) return undefined
  const text = String(raw).trim()
  if (text === '') return undefined
  if (!/^\d+$/.test(text)) return null
  const ms = Number(text)
  return ms >= 1 && ms <= MAX_STORE_TIMEOUT_MS ? ms : null
}

/** The warning of a `KEYLINE_STORE_TIMEOUT_MS` that is not one (never its value). */
export const STORE_TIMEOUT_WARNING = `${STORE_TIMEOUT_VARIABLE} is not a whole number of milliseconds from 1 to ${MAX_STORE_TIMEOUT_MS}: store calls use the default deadline, ${DEFAULT_STORE_TIMEOUT_MS} ms`

let lastRaw: unknown
let lastMs = DEFAULT_STORE_TIMEOUT_MS
let warned = false

/**
 * The deadline of one store call in `env` (`KEYLINE_STORE_TIMEOUT_MS`, parsed once per value):
 * {@link DEFAULT_STORE_TIMEOUT_MS} when it is unset, empty or not a whole number from 1 to
 * 60000. Never throws: the request path reads it (Workers). A bad value is passed to `warn`, if
 * given, at most once a process (the Node and Deno entries warn in their banner instead).
 */
export const storeTimeoutMs = (
  env: Readonly<Record<string, unknown>> | undefined,
  warn?: (message: string) => void
): number => {
  const raw = env?.[STORE_TIMEOUT_VARIABLE]
  if (raw !== lastRaw) {
    const ms = parseStoreTimeout(raw)
    lastMs = ms ?? DEFAULT_STORE_TIMEOUT_MS
    lastRaw = raw
    if (ms === null && warn && !warned) {
      warned = true
      warn(`keyline: ${STORE_TIMEOUT_WARNING}`)
    }
  }
  return lastMs
}

/**
 * `store` with every call bounded by `ms` milliseconds: a call that has not settled by then
 * rejects (`shared store: no answer within <ms> ms`). After a call timed out, the calls of the
 * next `4 × ms` fail at once with the same error (a store that just hung is not waited on again
 * by every step of a request), then calls go through again. Other members (`close()`, `kind`) pass
 * through unchanged; a call `store` lacks stays absent.
 */
export const withDeadline = <S extends Partial<SharedStore>>(store: S, ms: number): S => {
  /** Until when (epoch ms) calls fail at once, after a timeout. */
  let quietUntil = 0
  const call = async <T>(work: () => Promise<T>): Promise<T> => {
    if (Date.now() >= quietUntil) {
      const answer = await within(
        work().then((value) => ({ value })),
        ms
      )
      if (answer) return answer.value
      quietUntil = Date.now() + 4 * ms
    }
    throw new Error(`shared store: no answer in ${ms} ms`)
  }
  const bounded = { ...store }
  for (const name of CALLS) {
    const method = store[name] as ((...args: unknown[]) => Promise<unknown>) | undefined
    if (method)
      Object.assign(bounded, {
        [name]: (...args: unknown[]) => call(() => method.apply(store, args)),
      })
  }
  return bounded
}

/**
 * The store `make` builds on the binding `name` of a Workers env, each call bounded by
 * `KEYLINE_STORE_TIMEOUT_MS` ({@link withDeadline}), one per binding (not one per request);
 * `undefined` when `env` holds no such binding.
 */
export const boundStore = <B extends object>(
  env: Readonly<Record<string, unknown>> | undefined,
  name: string,
  isBinding: (value: unknown) => value is B,
  make: (binding: B) => SharedStore
): SharedStore | undefined => {
  const binding = env?.[name]
  if (!isBinding(binding)) return undefined
  let store = perBinding.get(binding)
  if (!store) {
    store = withDeadline(make(binding), storeTimeoutMs(env, console.warn))
    perBinding.set(binding, store)
  }
  return store
}

const perBinding = new WeakMap<object, SharedStore>()

/** The members of a {@link SharedStore} that reach it. */
const CALLS = ['get', 'put', 'delete', 'lock', 'unlock', 'appendLog'] as const

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

/**
 * `KEYLINE_STORE_TIMEOUT_MS` of `env`: a whole number of milliseconds from 1 to 60000; absent
 * or empty: {@link DEFAULT_STORE_TIMEOUT_MS}. Throws a `RangeError` naming the variable for
 * anything else.
 */
export const storeTimeoutMs = (env: Readonly<Record<string, unknown>> | undefined): number => {
  const text = String(env?.[STORE_TIMEOUT_VARIABLE] ?? '').trim()
  const ms = text === '' ? DEFAULT_STORE_TIMEOUT_MS : Number(text)
  if (Number.isInteger(ms) && ms >= 1 && ms <= 60_000) return ms
  throw new RangeError(`${STORE_TIMEOUT_VARIABLE} must be 1 to 60000 (milliseconds)`)
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

/** The members of a {@link SharedStore} that reach it. */
const CALLS = ['get', 'put', 'delete', 'lock', 'unlock', 'appendLog'] as const

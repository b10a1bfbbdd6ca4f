/**
 * A deadline on every call to a shared store: a Redis that accepts connections but never
 * answers, a KV namespace or a file system that hangs, rejects within `ms` instead of holding
 * a request without limit. What the store does after the deadline is its own affair; the caller
 * has its answer (a {@link StoreTimeoutError}) and goes on with what it has.
 */
import type { SharedStore } from './shared-store.ts'

/** The variable that sets the deadline of one store call, in milliseconds. */
export const STORE_TIMEOUT_VARIABLE = 'KEYLINE_STORE_TIMEOUT_MS'

/** The deadline of one store call (connecting included) when the variable is not set. */
export const DEFAULT_STORE_TIMEOUT_MS = 250

/** A store call that did not settle within its deadline. */
export class StoreTimeoutError extends Error {
  override readonly name = 'StoreTimeoutError'
}

/**
 * `KEYLINE_STORE_TIMEOUT_MS` of `env`: a whole number of milliseconds from 1 to 60000; absent
 * or empty: {@link DEFAULT_STORE_TIMEOUT_MS}. Throws a `RangeError` naming the variable for
 * anything else.
 */
export const storeTimeoutMs = (env: Readonly<Record<string, unknown>> | undefined): number => {
  const raw = env?.[STORE_TIMEOUT_VARIABLE]
  const text = typeof raw === 'string' ? raw.trim() : ''
  if (text === '') return DEFAULT_STORE_TIMEOUT_MS
  const ms = Number(text)
  if (!/^\d+$/.test(text) || ms < 1 || ms > 60_000) {
    throw new RangeError(
      `${STORE_TIMEOUT_VARIABLE} must be a whole number of milliseconds from 1 to 60000`
    )
  }
  return ms
}

/**
 * `store` with every call bounded by `ms` milliseconds: a call that has not settled by then
 * rejects with a {@link StoreTimeoutError}. After a call timed out, the calls of the next
 * `4 × ms` fail at once with the same error (a store that just hung is not waited on again by
 * every step of a request), then calls go through again. Other members (`close()`) pass through.
 */
export const withDeadline = <S extends SharedStore>(store: S, ms: number): S => {
  if (!Number.isFinite(ms) || ms <= 0) {
    throw new RangeError('withDeadline: ms must be a positive number of milliseconds')
  }
  /** Until when (epoch ms) calls fail at once, after a timeout. */
  let quietUntil = 0
  const bounded = <T>(work: () => Promise<T>, what: string): Promise<T> => {
    if (Date.now() < quietUntil) {
      return Promise.reject(
        new StoreTimeoutError(`shared store did not answer within ${ms} ms just now (${what})`)
      )
    }
    return new Promise<T>((resolve, reject) => {
      const timer = setTimeout(() => {
        quietUntil = Date.now() + 4 * ms
        reject(new StoreTimeoutError(`shared store ${what} took longer than ${ms} ms`))
      }, ms)
      // A store that throws synchronously rejects like one that fails.
      Promise.resolve()
        .then(work)
        .then(resolve, reject)
        .finally(() => clearTimeout(timer))
    })
  }
  return {
    ...store,
    kind: store.kind,
    get: (key) => bounded(() => store.get(key), 'get'),
    put: (key, value, options) => bounded(() => store.put(key, value, options), 'put'),
    delete: (key) => bounded(() => store.delete(key), 'delete'),
    lock: (key, owner, ttlMs) => bounded(() => store.lock(key, owner, ttlMs), 'lock'),
    unlock: (key, owner) => bounded(() => store.unlock(key, owner), 'unlock'),
  }
}

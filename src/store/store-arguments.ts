/** The argument checks and TTL arithmetic every SharedStore implementation shares. */

/** When a value put at `now` with `ttlSeconds` expires; checks the TTL. */
export const expiry = (now: number, ttlSeconds: number | undefined): number => {
  if (ttlSeconds === undefined) return Number.POSITIVE_INFINITY
  if (typeof ttlSeconds !== 'number' || !(ttlSeconds > 0) || !Number.isFinite(ttlSeconds)) {
    throw new RangeError('ttlSeconds must be a positive number of seconds')
  }
  return now + ttlSeconds * 1000
}

/** Checks the arguments every store's `lock` takes. */
export const checkLock = (owner: string, ttlMs: number): void => {
  if (typeof owner !== 'string' || owner === '')
    throw new TypeError('lock owner must be a non-empty string')
  if (!Number.isSafeInteger(ttlMs) || ttlMs <= 0) {
    throw new RangeError('lock ttlMs must be a positive integer number of milliseconds')
  }
}

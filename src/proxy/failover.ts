import type { Secret } from '../secrets/secret.ts'

/** What {@link withFailover} returns: the outcome and which slot's secret produced it. */
export interface FailoverResult<T> {
  readonly outcome: T
  readonly slot: 'current' | 'next'
  /** `true` when the current secret was rejected and the next one worked. */
  readonly failedOver: boolean
}

/** Options of {@link withFailover}. */
export interface FailoverOptions<T> {
  readonly current: Secret
  readonly next: Secret | undefined
  /** Makes the upstream call with one secret. */
  readonly call: (secret: Secret) => Promise<T>
  /** Whether an outcome means the secret was rejected (HTTP 401 or the provider's code). */
  readonly rejected: (outcome: T) => boolean
  /** Releases an outcome that is dropped in favour of a retry (e.g. cancels its body). */
  readonly discard?: (outcome: T) => Promise<void> | void
  /** Called when the next secret worked where the current one was rejected. */
  readonly onFailover?: (next: Secret, replaced: Secret) => void
}

/**
 * Calls the upstream with the current secret; when it is rejected and a next secret is staged,
 * calls once more with the next one. A next secret that works is reported through `onFailover`
 * (which promotes it, so it is used from then on).
 */
export const withFailover = async <T>(options: FailoverOptions<T>): Promise<FailoverResult<T>> => {
  const { current, next } = options
  const first = await options.call(current)
  const slot = current.source.startsWith('promoted:') ? 'next' : 'current'
  if (!next || !options.rejected(first)) return { outcome: first, slot, failedOver: false }
  await options.discard?.(first)
  const second = await options.call(next)
  if (options.rejected(second)) return { outcome: second, slot: 'next', failedOver: false }
  options.onFailover?.(next, current)
  return { outcome: second, slot: 'next', failedOver: true }
}

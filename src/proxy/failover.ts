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
  /**
   * The secret to try once when `current` is rejected: the staged next secret, or a current one
   * that changed meanwhile. Asked only on a rejection, so it may re-read the sources and see a
   * key staged while the request was in flight.
   */
  readonly alternative: () => Promise<Secret | undefined>
  /** Makes the upstream call with one secret. */
  readonly call: (secret: Secret) => Promise<T>
  /** Whether an outcome means the secret was rejected (HTTP 401 or the provider's code). */
  readonly rejected: (outcome: T) => boolean
  /** Releases an outcome that is dropped in favour of a retry (e.g. cancels its body). */
  readonly discard?: (outcome: T) => Promise<void> | void
  /** Called when a next secret worked where the current one was rejected. */
  readonly onFailover?: (next: Secret, replaced: Secret) => void
}

const slotOf = (secret: Secret): 'current' | 'next' =>
  secret.slot === 'next' || secret.source.startsWith('promoted:') ? 'next' : 'current'

/**
 * Calls the upstream with the current secret; when it is rejected and another secret is
 * available (a staged next one, or a current one that changed in the meantime), calls once more
 * with it. A next secret that works is reported through `onFailover`, which promotes it so it
 * is used from then on.
 */
export const withFailover = async <T>(options: FailoverOptions<T>): Promise<FailoverResult<T>> => {
  const { current } = options
  const first = await options.call(current)
  if (!options.rejected(first)) return { outcome: first, slot: slotOf(current), failedOver: false }
  const other = await options.alternative()
  if (!other || other.reveal() === current.reveal()) {
    return { outcome: first, slot: slotOf(current), failedOver: false }
  }
  await options.discard?.(first)
  const second = await options.call(other)
  if (options.rejected(second) || other.slot !== 'next') {
    return { outcome: second, slot: slotOf(other), failedOver: false }
  }
  options.onFailover?.(other, current)
  return { outcome: second, slot: 'next', failedOver: true }
}

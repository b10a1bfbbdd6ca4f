import type { SecretRegistry } from '../secrets/registry.ts'

/** The epoch a registry has applied in this isolate, shared by the checker and the publisher. */
export interface EpochState {
  /** The last epoch seen: `undefined` before the first check, `''` when none was stored. */
  known: string | undefined
  /** Epoch milliseconds of the last check of the store. */
  checkedAt: number
}

const states = new WeakMap<SecretRegistry, EpochState>()

/** The epoch state of `registry` in this isolate (one per registry). */
export const epochStateOf = (registry: SecretRegistry): EpochState => {
  let state = states.get(registry)
  if (!state) {
    state = { known: undefined, checkedAt: Number.NEGATIVE_INFINITY }
    states.set(registry, state)
  }
  return state
}

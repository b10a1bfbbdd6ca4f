import type { EnvRecord } from '../../env.ts'

// Apart from store-sources.ts (which imports the providers and the telemetry), so that what only
// reads an overlaid environment (client auth) imports nothing else.

/** Where a variable's value came from, kept on the environment `StoreSources.overlay` returns. */
export interface StoreRead {
  readonly source: string
  readonly variable: string
  /** Why no value is there: the store's error, redacted. */
  readonly error?: string
}

/** The key of the reads an overlaid environment carries (see `StoreSources.overlay`). */
export const READS: unique symbol = Symbol('keyline.storeReads')

/** Where `name`'s value in an environment from `StoreSources.overlay` came from. */
export const storeReadOf = (env: EnvRecord, name: string): StoreRead | undefined =>
  (env as { [READS]?: Map<string, StoreRead> })[READS]?.get(name)

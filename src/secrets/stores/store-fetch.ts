import type { StoreKind } from '../../catalog/keyline.ts'
import type { EnvRecord } from '../../env.ts'
import type { AwsCredentialsProvider } from './aws-request.ts'

/** What one fetch from a store returned. */
export interface StoreFetched {
  /** The secret text; `undefined` when the store holds no such version (no `AWSPENDING`). */
  readonly value: string | undefined
  /** The store's version id (Secrets Manager `VersionId`, SSM `Version`). */
  readonly versionId?: string
  /** The version stage asked for (Secrets Manager). */
  readonly stage?: string
}

/** What a store fetch is given: the request's environment and what it fetches with. */
export interface StoreFetchContext {
  readonly env: EnvRecord
  readonly credentials: AwsCredentialsProvider | undefined
  readonly fetch: typeof fetch
  /** Aborted when the fetch exceeds its bounded time. */
  readonly signal: AbortSignal
}

/** One thing that can be fetched from a store: a secret version, a parameter, a binding. */
export interface StoreRef {
  readonly kind: StoreKind
  /** Names the entry in the cache: one fetch per key, however many variables read it. */
  readonly key: string
  /** Shown in the status and as the credential's source, e.g. `aws-sm:prod/anthropic`. */
  readonly source: string
  fetch(context: StoreFetchContext): Promise<StoreFetched>
}

import type { EnvReader } from '../env.ts'
import type { SecretRegistry } from '../secrets/registry.ts'
import type { CallObserver } from './observe.ts'
import type { RetryPolicy } from './retry-policy.ts'

/** What the proxy routes share with the rest of the app. */
export interface ProxyDeps {
  readonly registry: SecretRegistry
  /** How the request's environment is read, for a fresh look at the secrets on a 401. */
  readonly env: EnvReader
  /** Reports every upstream call to the provider health and the metrics. */
  readonly observer: CallObserver
  readonly policy: RetryPolicy
  /** The fetch used for every upstream call. */
  readonly fetch?: typeof fetch
}

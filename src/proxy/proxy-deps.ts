import type { HealthTracker } from '../health/provider-health.ts'
import type { SecretRegistry } from '../secrets/registry.ts'
import type { RetryPolicy } from './retry-policy.ts'

/** What the proxy routes share with the rest of the app. */
export interface ProxyDeps {
  readonly registry: SecretRegistry
  readonly health: HealthTracker
  readonly policy: RetryPolicy
  /** The fetch used for every upstream call. */
  readonly fetch?: typeof fetch
}

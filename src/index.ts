import type { Hono, MiddlewareHandler } from 'hono'
import { type AppOptions, createApp as createAppWithout, type KeylineEnv } from './app.ts'
import {
  type SecretsOptions,
  type SecretsVariables,
  secrets as secretsWithout,
} from './middleware/secrets.ts'
import { anthropicSdkClient } from './providers/anthropic/sdk.ts'

/**
 * Composes keyline's middleware and routes into one Hono app (see `src/app.ts`), with
 * `c.var.anthropic` an `@anthropic-ai/sdk` client whose calls take keyline's Anthropic call.
 */
export const createApp = (options: AppOptions = {}): Hono<KeylineEnv> =>
  createAppWithout({ anthropicClient: anthropicSdkClient, ...options })

/**
 * Request-scoped provider clients (see `src/middleware/secrets.ts`), with `c.var.anthropic` an
 * `@anthropic-ai/sdk` client whose calls take keyline's Anthropic call.
 */
export const secrets = (
  options: SecretsOptions = {}
): MiddlewareHandler<{ Variables: SecretsVariables }> =>
  secretsWithout({ anthropicClient: anthropicSdkClient, ...options })

export { bindingsOnly, type EnvReader, readEnv } from './env.ts'
export { type ErrorBody, KeylineError } from './errors/keyline-error.ts'
export { ProviderNotConfiguredError } from './errors/provider-not-configured.ts'
export { type ClientAuthOptions, clientAuth } from './middleware/client-auth.ts'
export { errorResponse, onError, redactErrors } from './middleware/on-error.ts'
export {
  type RedactionOptions,
  type RedactionVariables,
  redaction,
  redactorOf,
} from './middleware/redaction.ts'
export {
  type StoreEnvironmentOptions,
  storeAwareEnv,
  storeEnvironment,
} from './middleware/store-environment.ts'
export {
  type AnthropicClientFactory,
  type AnthropicClientOptions,
  anthropicSdkClient,
  createAnthropicClient,
} from './providers/anthropic/sdk.ts'
export {
  createFyersClient,
  FyersApiError,
  type FyersClient,
  type FyersClientOptions,
  type FyersEnvelope,
  type FyersQuote,
  type FyersQuotesResponse,
} from './providers/fyers/client.ts'
export * from './secrets/index.ts'
export { HealthTracker, type ProviderHealth } from './telemetry/provider-health.ts'
export { DEFAULT_RETRY_POLICY, type RetryPolicy } from './upstream/retry-policy.ts'
export type { AppOptions, KeylineEnv, SecretsOptions, SecretsVariables }

export { type AppOptions, createApp, type KeylineEnv } from './app.ts'
export { type ClientAuthOptions, clientAuth } from './auth/client-auth.ts'
export { type AnthropicClientOptions, createAnthropicClient } from './clients/anthropic.ts'
export {
  createFyersClient,
  FyersApiError,
  type FyersClient,
  type FyersClientOptions,
  type FyersEnvelope,
  type FyersQuote,
  type FyersQuotesResponse,
} from './clients/fyers.ts'
export { bindingsOnly, type EnvReader, readEnv } from './env.ts'
export { type ErrorBody, KeylineError } from './errors/keyline-error.ts'
export { errorResponse, onError, redactErrors } from './errors/on-error.ts'
export { ProviderNotConfiguredError } from './errors/provider-not-configured.ts'
export { HealthTracker, type ProviderHealth } from './health/provider-health.ts'
export {
  type RedactionOptions,
  type RedactionVariables,
  redaction,
  redactorOf,
} from './middleware/redaction.ts'
export { type SecretsOptions, type SecretsVariables, secrets } from './middleware/secrets.ts'
export { DEFAULT_RETRY_POLICY, type RetryPolicy } from './proxy/retry-policy.ts'
export * from './secrets/index.ts'

/**
 * The `keyline` package: the app, the middleware and the provider clients. Importing it makes
 * `c.var.anthropic` an `@anthropic-ai/sdk` client (see {@link useAnthropicClient}) and
 * `c.var.fyers` keyline's typed Fyers client ({@link useFyersClient}); the proxy Worker builds
 * its app from `src/app.ts` alone and loads neither. It installs the admin console's files too
 * (the generated strings; the Worker serves them from its static assets instead).
 */
import { bundledConsoleAssets } from './admin/console/bundled-assets.ts'
import { useConsoleAssets } from './admin/console/console-source.ts'
import { useAnthropicClient, useFyersClient } from './middleware/secrets.ts'
import { anthropicSdkClient } from './providers/anthropic/sdk.ts'
import { fyersClientFor } from './providers/fyers/call.ts'

useAnthropicClient(anthropicSdkClient)
useFyersClient(fyersClientFor)
useConsoleAssets(bundledConsoleAssets)

export { type AppOptions, createApp, type KeylineApp, type KeylineEnv } from './app.ts'
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
  type SecretsOptions,
  type SecretsVariables,
  secrets,
  useAnthropicClient,
  useFyersClient,
} from './middleware/secrets.ts'
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
  type Candle,
  type ConvertPositionRequest,
  createFyersClient,
  type Depth,
  type DepthLevel,
  FyersApiError,
  type FyersClient,
  type FyersClientOptions,
  type FyersDepthResponse,
  type FyersEnvelope,
  type FyersFundsResponse,
  type FyersHistoryResponse,
  type FyersHoldingsResponse,
  type FyersMarketStatusResponse,
  type FyersOrderResponse,
  type FyersOrdersResponse,
  type FyersPositionsResponse,
  type FyersProfileResponse,
  type FyersQuote,
  type FyersQuotesResponse,
  type FyersTradebookResponse,
  type HistoryQuery,
  type ModifyOrderRequest,
  type OrderRequest,
  type Quote,
} from './providers/fyers/client.ts'
export * from './secrets/index.ts'
export { HealthTracker, type ProviderHealth } from './telemetry/provider-health.ts'
export { DEFAULT_RETRY_POLICY, type RetryPolicy } from './upstream/retry-policy.ts'

import type Anthropic from '@anthropic-ai/sdk'
import type { MiddlewareHandler } from 'hono'
import { type AnthropicClientOptions, createAnthropicClient } from '../clients/anthropic.ts'
import { ClientCache } from '../clients/client-cache.ts'
import type { FyersClient } from '../clients/fyers.ts'
import { fyersClientFor } from '../clients/fyers-from-snapshot.ts'
import { lazy } from '../clients/lazy.ts'
import { type EnvReader, readEnv } from '../env.ts'
import { ProviderNotConfiguredError } from '../errors/provider-not-configured.ts'
import { resilientFetch } from '../proxy/resilient-fetch.ts'
import { type RetryPolicy, retryPolicy } from '../proxy/retry-policy.ts'
import type { ProviderId } from '../secrets/definitions.ts'
import type { FileReader } from '../secrets/read-value.ts'
import { type ProviderSnapshot, SecretRegistry, type SecretsSnapshot } from '../secrets/registry.ts'

/** Options of {@link secrets}. */
export interface SecretsOptions {
  /**
   * The registry to read from; share one with the admin routes so reloads are seen by both.
   * @default a new registry built from `readFile`
   */
  registry?: SecretRegistry
  /**
   * Reads `<NAME>_FILE` secrets when no `registry` is given (the Node and Deno entries pass one).
   * @default undefined — `_FILE` variables are reported unusable
   */
  readFile?: FileReader
  /**
   * How the request's environment is read.
   * @default readEnv — `hono/adapter`'s `env(c)` with `c.env` string bindings laid over it
   */
  env?: EnvReader
  /** The fetch the provider clients use. @default globalThis.fetch */
  fetch?: typeof fetch
  /** Options for every Anthropic SDK client. @default {} */
  anthropic?: AnthropicClientOptions
  /** Timeouts and retries of the Fyers client's calls. @default DEFAULT_RETRY_POLICY */
  retry?: Partial<RetryPolicy>
}

/** What {@link secrets} puts on `c.var`. */
export interface SecretsVariables {
  /** Every provider's configuration for this request: fingerprints and issues, never values. */
  secrets: SecretsSnapshot
  /** An `@anthropic-ai/sdk` client with the current key; touching it unconfigured throws a 503. */
  anthropic: Anthropic
  /** A Fyers API v3 client with the current token; touching it unconfigured throws a 503. */
  fyers: FyersClient
}

const requireConfigured = <P extends ProviderId>(snapshot: ProviderSnapshot<P>): void => {
  if (!snapshot.configured) throw new ProviderNotConfiguredError(snapshot.provider, snapshot.issues)
}

/**
 * Reads the provider secrets for each request and injects ready clients as `c.var.anthropic`
 * and `c.var.fyers`. Clients are built only when a handler touches them and are reused while
 * the secrets behind them are unchanged; a rotated secret yields a new client with no restart.
 */
export const secrets = (
  options: SecretsOptions = {}
): MiddlewareHandler<{ Variables: SecretsVariables }> => {
  if (options.registry && options.readFile) {
    throw new TypeError('secrets(): pass readFile to the registry, not beside it')
  }
  const registry = options.registry ?? new SecretRegistry({ readFile: options.readFile })
  const readRequestEnv = options.env ?? readEnv
  const anthropicClients = new ClientCache<Anthropic>()
  const fyersClients = new ClientCache<FyersClient>()
  const fyersFetch = resilientFetch(retryPolicy(options.retry), options.fetch)
  const anthropicOptions = {
    ...options.anthropic,
    fetch: options.anthropic?.fetch ?? options.fetch,
  }

  return async function secretsMiddleware(c, next) {
    const snapshot = await registry.resolve(readRequestEnv(c))
    c.set('secrets', snapshot)
    c.set(
      'anthropic',
      lazy(() => {
        const s = snapshot.anthropic
        requireConfigured(s)
        return anthropicClients.get('anthropic', s.generation, () =>
          createAnthropicClient(
            s.credentials.apiKey.current?.reveal() ?? '',
            s.settings.baseUrl,
            anthropicOptions
          )
        )
      })
    )
    c.set(
      'fyers',
      lazy(() => {
        const s = snapshot.fyers
        requireConfigured(s)
        return fyersClients.get('fyers', s.generation, () =>
          fyersClientFor(s, s.credentials.accessToken.current?.reveal() ?? '', fyersFetch)
        )
      })
    )
    await next()
  }
}

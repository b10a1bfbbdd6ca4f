import type Anthropic from '@anthropic-ai/sdk'
import type { Context, MiddlewareHandler } from 'hono'
import { type EnvReader, readEnv } from '../env.ts'
import { ProviderNotConfiguredError } from '../errors/provider-not-configured.ts'
import type { AnthropicClientFactory, AnthropicClientOptions } from '../providers/anthropic/sdk.ts'
import { type CallDeps, type CallScope, callPolicies } from '../providers/call.ts'
import type { FyersClient } from '../providers/fyers/client.ts'
import type { FyersTokens } from '../providers/fyers/tokens.ts'
import type { FileReader } from '../secrets/read-value.ts'
import { type ProviderSnapshot, SecretRegistry, type SecretsSnapshot } from '../secrets/registry.ts'
import { callReporter } from '../telemetry/call-reporter.ts'
import { HealthTracker } from '../telemetry/provider-health.ts'
import { recordStoreFetch } from '../telemetry/record.ts'
import type { RetryPolicy } from '../upstream/retry-policy.ts'
import { redactorOf } from './redaction.ts'

/** Options of {@link secrets}. */
export interface SecretsOptions {
  /**
   * The registry to read from; share one with the admin routes so reloads are seen by both.
   * @default a new registry built from `readFile`
   */
  registry?: SecretRegistry
  /**
   * Reads `<NAME>_FILE` secrets when no `registry` is given; `null` reads none.
   * @default the runtime's own file reader on Node and Deno; none on Workers
   */
  readFile?: FileReader | null
  /**
   * How the request's environment is read.
   * @default readEnv — the runtime's environment (`runtimeEnv`, as `hono/adapter`'s `env(c)`) with `c.env` string bindings laid over it
   */
  env?: EnvReader
  /** The fetch of every upstream call (the clients' included). @default globalThis.fetch */
  fetch?: typeof fetch
  /** Options for every Anthropic SDK client. @default {} */
  anthropic?: AnthropicClientOptions
  /**
   * Builds the `@anthropic-ai/sdk` client of `c.var.anthropic`.
   * @default the one installed with {@link useAnthropicClient}: importing the `keyline` package
   * installs `@anthropic-ai/sdk`'s; the proxy Worker imports only `src/app.ts` and installs none
   * (its bundle holds no SDK), so there touching `c.var.anthropic` throws
   */
  anthropicClient?: AnthropicClientFactory
  /**
   * Timeouts and retries of every upstream call.
   * @default DEFAULT_RETRY_POLICY, but Anthropic's answers may take 10 minutes to begin
   */
  retry?: Partial<RetryPolicy>
  /** Where calls made through the clients are reported (and the admin status reads). @default a new tracker */
  health?: HealthTracker
  /**
   * The Fyers token lifecycle: its vault is read before the first request, and a rejected
   * access token is refreshed once. @default none
   */
  fyersTokens?: FyersTokens
}

let installedAnthropicClient: AnthropicClientFactory | undefined

/**
 * Makes `factory` the `anthropicClient` of every {@link secrets} (and `createApp`) not given
 * one. The `keyline` package entry installs `@anthropic-ai/sdk`'s ({@link anthropicSdkClient}),
 * so the SDK is loaded only where that entry is.
 */
export const useAnthropicClient = (factory: AnthropicClientFactory): void => {
  installedAnthropicClient = factory
}

/** Builds `c.var.fyers` over keyline's provider call (`fyersClientFor`). */
export type FyersClientFactory = (
  deps: CallDeps,
  scope: CallScope,
  snapshot: ProviderSnapshot<'fyers'>
) => FyersClient

let installedFyersClient: FyersClientFactory | undefined

/**
 * Makes `factory` the builder of `c.var.fyers`. The `keyline` package entry installs keyline's
 * typed client; the proxy Worker imports only `src/app.ts`, never touches `c.var.fyers` and
 * installs none, so its bundle holds no client methods.
 */
export const useFyersClient = (factory: FyersClientFactory): void => {
  installedFyersClient = factory
}

/** What {@link secrets} puts on `c.var`. */
export interface SecretsVariables {
  /** Every provider's configuration for this request: fingerprints and issues, never values. */
  secrets: SecretsSnapshot
  /**
   * An `@anthropic-ai/sdk` client with the current key, failover to the next one, keyline's
   * retries, redaction and metrics; touching it unconfigured throws a 503.
   */
  anthropic: Anthropic
  /** A Fyers API v3 client with the same failover, retries and metrics; unconfigured, a 503. */
  fyers: FyersClient
}

declare module 'hono' {
  interface ContextVariableMap extends SecretsVariables {}
}

/** What a {@link lazy} stand-in holds: how to build the object, and the object once built. */
interface LazyTarget {
  readonly build: () => object
  built?: object
}

const realOf = (target: LazyTarget): object => {
  target.built ??= target.build()
  return target.built
}

/** One handler for every stand-in (the state is in its target): a request allocates no traps. */
const LAZY_HANDLER: ProxyHandler<LazyTarget> = {
  get(target, prop) {
    if (prop === 'then' && !target.built) return undefined
    const real = realOf(target)
    const value: unknown = Reflect.get(real, prop, real)
    return typeof value === 'function' ? value.bind(real) : value
  },
  has: (target, prop) => Reflect.has(realOf(target), prop),
  set: (target, prop, value) => Reflect.set(realOf(target), prop, value),
  ownKeys: (target) => Reflect.ownKeys(realOf(target)),
  getOwnPropertyDescriptor(target, prop) {
    const descriptor = Reflect.getOwnPropertyDescriptor(realOf(target), prop)
    return descriptor && { ...descriptor, configurable: true }
  },
  getPrototypeOf: (target) => Reflect.getPrototypeOf(realOf(target)),
}

/**
 * A stand-in for an object that is built on first use. Reading any property builds it (or
 * throws the builder's error); `then` reads as `undefined` so it is never taken for a promise.
 */
const lazy = <T extends object>(build: () => T): T =>
  new Proxy<LazyTarget>({ build }, LAZY_HANDLER) as unknown as T

const requireConfigured = (snapshot: ProviderSnapshot): void => {
  if (!snapshot.configured) throw new ProviderNotConfiguredError(snapshot.provider, snapshot.issues)
}

/** The scope of a request's provider calls: its environment, redactor and abort signal. */
export const callScope = (c: Context, env: EnvReader): CallScope => ({
  env: env(c),
  redactor: () => redactorOf(c, env),
  signal: c.req.raw.signal,
  // `c.get`, not `c.var`: Hono's `c.var` copies every variable into a new object per read.
  client: c.get('clientName'),
  onUsage: c.get('clientUsage'),
})

/**
 * Reads the provider secrets for each request and injects ready clients as `c.var.anthropic`
 * and `c.var.fyers`. Clients are built only when a handler touches them; the Anthropic client
 * is reused while the secrets behind it are unchanged, and a rotated secret yields a new one
 * with no restart. Every call they make takes the provider's one upstream call: the current
 * credential, failover to the next one, retries, error mapping and metrics.
 */
export const secrets = (
  options: SecretsOptions = {}
): MiddlewareHandler<{ Variables: SecretsVariables }> => {
  if (options.registry && options.readFile !== undefined) {
    throw new TypeError('secrets(): pass readFile to the registry, not beside it')
  }
  const registry = options.registry ?? new SecretRegistry({ readFile: options.readFile })
  registry.stores.observe(recordStoreFetch)
  const readRequestEnv = options.env ?? readEnv
  const deps: CallDeps = {
    registry,
    reporter: callReporter(options.health ?? new HealthTracker()),
    policies: callPolicies(options.retry),
    fetch: options.fetch,
    fyersTokens: options.fyersTokens,
  }
  const { fyersTokens } = options
  const anthropicOptions = {
    ...options.anthropic,
    fetch: options.anthropic?.fetch ?? options.fetch,
  }
  // One client per generation; it calls with the scope of the latest request that touched it.
  let anthropic: { generation: number; client: Anthropic; latest: { scope: CallScope } } | undefined

  return async function secretsMiddleware(c, next) {
    if (fyersTokens && !fyersTokens.loaded) await fyersTokens.ensureLoaded(readRequestEnv(c))
    const snapshot = await registry.resolve(readRequestEnv(c))
    c.set('secrets', snapshot)
    c.set(
      'anthropic',
      lazy(() => {
        const s = snapshot.anthropic
        requireConfigured(s)
        const buildAnthropic = options.anthropicClient ?? installedAnthropicClient
        if (!buildAnthropic) {
          throw new TypeError(
            'c.var.anthropic needs the Anthropic SDK: import createApp() or secrets() from "keyline", or pass anthropicClient'
          )
        }
        const scope = callScope(c, readRequestEnv)
        if (anthropic?.generation !== s.generation) {
          const latest = { scope }
          const client = buildAnthropic({
            deps,
            scope: () => latest.scope,
            snapshot: s,
            options: anthropicOptions,
          })
          anthropic = { generation: s.generation, client, latest }
        }
        anthropic.latest.scope = scope
        return anthropic.client
      })
    )
    c.set(
      'fyers',
      lazy(() => {
        requireConfigured(snapshot.fyers)
        if (!installedFyersClient) {
          throw new TypeError(
            'c.var.fyers needs keyline\'s Fyers client: import createApp() or secrets() from "keyline"'
          )
        }
        return installedFyersClient(deps, callScope(c, readRequestEnv), snapshot.fyers)
      })
    )
    await next()
  }
}

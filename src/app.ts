import type { Hono } from 'hono'
import { requestId } from 'hono/request-id'
import { type AdminOptions, adminRoutes } from './admin/admin-routes.ts'
import { RotationEvents } from './admin/events.ts'
import type { EnvRecord } from './env.ts'
import { readEnv } from './env.ts'
import { honoApp } from './hono-app.ts'
import { accessLog } from './log/access-log.ts'
import { createLogger, type LoggerOptions } from './log/logger.ts'
import { clientAuth } from './middleware/client-auth.ts'
import { ClientQuotas } from './middleware/client-quotas.ts'
import { inSequence } from './middleware/in-sequence.ts'
import { errorResponse, onError, useAnthropicErrorShape } from './middleware/on-error.ts'
import { type RedactionVariables, redaction } from './middleware/redaction.ts'
import { type SecretsOptions, type SecretsVariables, secrets } from './middleware/secrets.ts'
import { storeAwareEnv, storeEnvironment } from './middleware/store-environment.ts'
import { type CallDeps, callPolicies } from './providers/call.ts'
import { FyersTokens } from './providers/fyers/tokens.ts'
import type { CounterEngine } from './quota/limits.ts'
import { DEFAULT_EPOCH_KEY } from './rotation/epoch-record.ts'
import { NextSecretValidator } from './rotation/next-validator.ts'
import { publishEpoch, reloadEpoch } from './rotation/reload-epoch.ts'
import { anthropicRoutes } from './routes/anthropic.ts'
import { fyersRoutes } from './routes/fyers.ts'
import { healthRoutes } from './routes/health.ts'
import { isWorkersRuntime } from './runtime.ts'
import { SecretRegistry } from './secrets/registry.ts'
import { durableStoreFromEnv, withDurableLock } from './store/durable-store.ts'
import { kvStoreFromEnv } from './store/kv-store.ts'
import type { SharedStore } from './store/shared-store.ts'
import { callReporter } from './telemetry/call-reporter.ts'
import { otelFlush } from './telemetry/export/otel-flush.ts'
import { HealthTracker } from './telemetry/provider-health.ts'
import { recordStoreFetch } from './telemetry/record.ts'
import { vaultFromEnv } from './vault/token-vault.ts'

/** Options of {@link createApp}. */
export interface AppOptions extends Omit<SecretsOptions, 'registry'> {
  /**
   * Runtime name reported by `/healthz`.
   * @default runtimeName() (src/runtime.ts), hono/adapter's names
   */
  runtime?: string
  /** A registry to share with code outside the app. @default a new one built from `readFile` */
  registry?: SecretRegistry
  /**
   * Largest `POST /v1/messages` body, in bytes.
   * @default 1048576
   */
  maxBodyBytes?: number
  /**
   * Admin API settings: rate limit, audit logger, client address, KV epoch binding and key.
   * @default {} — the admin API's own defaults
   */
  admin?: Omit<AdminOptions, 'registry' | 'health' | 'validator' | 'env' | 'runtime' | 'fetch'>
  /**
   * How often (ms) each Workers isolate checks the KV reload epoch, bounding how long a reload
   * or promotion elsewhere takes to reach it.
   * @default 5000
   */
  reloadCheckMs?: number
  /** Where log lines go (access, audit, errors). @default the console, as JSON lines */
  logSink?: LoggerOptions['sink']
  /**
   * The store every instance of the deployment shares: the token vault, the Fyers refresh lock,
   * the rotation events log and the reload epoch live there. The Node and Deno entries pass
   * Redis (`KEYLINE_REDIS_URL`), a file (`KEYLINE_VAULT_FILE`) or memory.
   * @default on Workers the `KEYLINE_KV` binding, when bound, with the refresh lock and the
   * events log in the `KEYLINE_LIMITS` Durable Object when that is bound; else none (this
   * instance only)
   */
  store?: SharedStore
  /**
   * Where the per-client quota counters (`KEYLINE_CLIENT_LIMITS`) live. The Node and Deno
   * entries pass Redis with `KEYLINE_REDIS_URL`.
   * @default the `KEYLINE_LIMITS` Durable Object namespace on Workers, when bound; else memory
   */
  limits?: CounterEngine
}

/** The Hono environment of a keyline app. */
export type KeylineEnv = {
  Variables: SecretsVariables & RedactionVariables & { requestId: string }
}

/**
 * Composes keyline's middleware and routes into one Hono app. Runtime-free: the Node, Deno and
 * Workers entries pass what only they have (the runtime's name, the client address).
 *
 * `c.var.anthropic` is the client that `anthropicClient` builds, else the one installed with
 * `useAnthropicClient` (importing the `keyline` package installs `@anthropic-ai/sdk`'s); this
 * module itself never imports the SDK, so the proxy Worker's bundle holds none.
 */
export const createApp = (options: AppOptions = {}): KeylineApp => {
  const {
    runtime,
    readFile,
    registry: given,
    health: sharedHealth,
    maxBodyBytes,
    admin = {},
    reloadCheckMs,
    logSink,
    store,
    limits,
    ...secretsOptions
  } = options
  if (given && readFile !== undefined) {
    throw new TypeError('createApp(): pass readFile to the registry, not beside it')
  }
  const registry = given ?? new SecretRegistry({ readFile })
  // Store fetches are counted in the metrics (`keyline.secrets.store.fetches`).
  registry.stores.observe(recordStoreFetch)
  const health = sharedHealth ?? new HealthTracker()
  const requestEnv = options.env ?? readEnv
  // Every reader after storeEnvironment() sees store-backed credentials as variables.
  const env = storeAwareEnv(requestEnv)
  const auditLogger = createLogger({ sink: logSink })
  const adminLog = admin.log ?? ((line) => auditLogger.info(String(line.msg ?? 'admin'), line))
  const storeOf = (bindings: EnvRecord): SharedStore | undefined =>
    store ?? kvStoreFromEnv(bindings)
  const epochKey = admin.epoch?.key ?? DEFAULT_EPOCH_KEY
  // The rotation events log lives in the shared store (on Workers the KEYLINE_LIMITS Durable
  // Object when bound, else KV; Redis), else in this instance; so does the Fyers refresh lock.
  const events =
    admin.events ??
    new RotationEvents({
      store: (bindings) => store ?? durableStoreFromEnv(bindings) ?? kvStoreFromEnv(bindings),
      log: (line) => auditLogger.warn(String(line.msg), line),
    })
  const fyersTokens = new FyersTokens({
    registry,
    store: (bindings) => store ?? withDurableLock(kvStoreFromEnv(bindings), bindings),
    vault: vaultFromEnv,
    fetch: options.fetch,
    log: ({ level, msg, ...fields }) =>
      auditLogger[level === 'warn' ? 'warn' : 'info'](String(msg ?? 'fyers'), fields),
    // An admin refresh is recorded by its route, with the admin token's fingerprint.
    onRefresh: (bindings, trigger, result) =>
      trigger === 'admin'
        ? Promise.resolve()
        : events.record(bindings, {
            who: 'system',
            action: 'fyers-refresh',
            provider: 'fyers',
            result: result.ok ? 'ok' : 'error',
            detail: result.ok
              ? `${trigger}${result.by === 'another' ? ' (by another instance)' : ''}${result.token ? `, to: ${result.token.fingerprint}` : ''}`
              : `${trigger}: ${result.reason}`,
          }),
    // Other instances read the vault again when they see the new epoch.
    onChange: async (bindings) => {
      const shared = storeOf(bindings)
      if (shared) {
        await publishEpoch(shared, epochKey, registry, { action: 'reload' }, Date.now(), bindings)
      }
    },
  })
  const deps: CallDeps = {
    registry,
    reporter: callReporter(health),
    policies: callPolicies(options.retry),
    fetch: options.fetch,
    fyersTokens,
    onFailover: (bindings, failover) =>
      events.record(bindings, {
        who: 'system',
        action: 'failover',
        provider: failover.provider,
        result: 'ok',
        detail: `${failover.credential} from: ${failover.from}, to: ${failover.to}`,
      }),
  }
  const quotas = new ClientQuotas({
    env,
    files: registry,
    engine: limits,
    warn: (message) => auditLogger.warn(message),
  })
  const app = honoApp<KeylineEnv>()
  const validator = new NextSecretValidator({ fetch: options.fetch })
  // Outside Workers otelFlush() is a bare pass-through: not a layer every request crosses.
  if (isWorkersRuntime()) app.use(otelFlush())
  // One dispatch layer for the four: none but the access log does anything after `next()`, so
  // whether it sees a throw or an error response makes no difference to them.
  app.use(
    inSequence(
      requestId(),
      storeEnvironment({ registry, env: requestEnv }),
      redaction({ env, sink: logSink }),
      accessLog({ logger: (c) => c.get('logger'), client: (c) => c.get('clientName') })
    )
  )
  app.route('/', healthRoutes(runtime, storeOf))
  app.use(
    reloadEpoch({
      registry,
      validator,
      env,
      intervalMs: reloadCheckMs,
      binding: admin.epoch?.binding,
      key: epochKey,
      store,
      log: adminLog,
      onApplied: (bindings) => fyersTokens.reload(bindings),
    })
  )
  // The vault is read before the first admin request; `/v1/*` has secrets() read it, once.
  app.use('/admin/*', fyersTokens.loader(env))
  app.route(
    '/admin',
    adminRoutes({
      ...admin,
      log: adminLog,
      registry,
      health,
      validator,
      env,
      runtime,
      store,
      fyersTokens,
      events,
      quotas,
    })
  )
  // Anthropic's routes answer Anthropic-shaped errors, and take the client token as `x-api-key`
  // too (as Anthropic's docs send a key). One dispatch layer for both.
  app.use(
    '/v1/*',
    inSequence(
      async function anthropicErrors(c, next) {
        if (c.req.path !== '/v1/quotes') useAnthropicErrorShape(c)
        await next()
      },
      clientAuth({
        env,
        files: registry,
        apiKeyHeader: (path) => path !== '/v1/quotes',
        // A named client's quota, before anything goes upstream.
        onClient: (c, name) => quotas.check(c, name),
      })
    )
  )
  // The Fyers SDK sends its access token as `Authorization: <app id>:<token>`.
  app.use(
    '/fyers/*',
    clientAuth({
      env,
      files: registry,
      appIdForm: true,
      onClient: (c, name) => quotas.check(c, name),
    })
  )
  app.use(secrets({ ...secretsOptions, env, registry, health, fyersTokens }))
  // Fyers first: every other `/v1/*` path is Anthropic's (its passthrough catches the rest).
  app.route(
    '/',
    fyersRoutes({
      deps,
      env,
      // Every trading call is an audit line and a rotation event: who and what, never amounts.
      onTrade: async (bindings, trade) => {
        const { result, reason, ...what } = trade
        auditLogger.info('fyers trade', { ...what, result, reason })
        await events.record(bindings, {
          who: `client:${trade.client}`,
          action: 'fyers-trade',
          provider: 'fyers',
          result,
          detail: reason ? `${trade.operation}: ${reason}` : trade.operation,
        })
      },
    })
  )
  app.route('/', anthropicRoutes({ deps, env, maxBodyBytes }))
  app.notFound((c) =>
    errorResponse(c, 404, { error: { type: 'not_found', message: 'No such route' } })
  )
  app.onError(onError)
  return Object.assign(app, { fyersTokens })
}

/** A keyline app, with its Fyers token lifecycle for the entries (timer, cron). */
export type KeylineApp = Hono<KeylineEnv> & { readonly fyersTokens: FyersTokens }

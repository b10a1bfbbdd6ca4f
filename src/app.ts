import { Hono } from 'hono'
import { requestId } from 'hono/request-id'
import { type AdminOptions, adminRoutes } from './admin/admin-routes.ts'
import { clientAuth } from './auth/client-auth.ts'
import { readEnv } from './env.ts'
import { errorResponse, onError } from './errors/on-error.ts'
import { HealthTracker } from './health/provider-health.ts'
import { accessLog } from './log/access-log.ts'
import { createLogger, type LoggerOptions } from './log/logger.ts'
import { type RedactionVariables, redaction } from './middleware/redaction.ts'
import { type SecretsOptions, type SecretsVariables, secrets } from './middleware/secrets.ts'
import type { CallDeps } from './providers/call.ts'
import { NextSecretValidator } from './rotation/next-validator.ts'
import { reloadEpoch } from './rotation/reload-epoch.ts'
import { anthropicRoutes } from './routes/anthropic.ts'
import { fyersRoutes } from './routes/fyers.ts'
import { healthRoutes } from './routes/health.ts'
import { SecretRegistry } from './secrets/registry.ts'
import { callReporter } from './telemetry/call-reporter.ts'
import { otelFlush } from './telemetry/export/otel-flush.ts'
import { retryPolicy } from './upstream/retry-policy.ts'

/** Options of {@link createApp}. */
export interface AppOptions extends Omit<SecretsOptions, 'registry'> {
  /**
   * Runtime name reported by `/healthz`.
   * @default hono/adapter's getRuntimeKey()
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
}

/** The Hono environment of a keyline app. */
export type KeylineEnv = {
  Variables: SecretsVariables & RedactionVariables & { requestId: string }
}

/**
 * Composes keyline's middleware and routes into one Hono app. Runtime-free: the Node, Deno and
 * Workers entries pass what only they have (the runtime's name, the client address).
 *
 * This is the app without the `@anthropic-ai/sdk` client, as the proxy Worker runs it: pass
 * `anthropicClient` for `c.var.anthropic`, or use the `keyline` package's `createApp`, which
 * passes the SDK's.
 */
export const createApp = (options: AppOptions = {}): Hono<KeylineEnv> => {
  const {
    runtime,
    readFile,
    registry: given,
    health: sharedHealth,
    maxBodyBytes,
    admin = {},
    reloadCheckMs,
    logSink,
    ...secretsOptions
  } = options
  if (given && readFile !== undefined) {
    throw new TypeError('createApp(): pass readFile to the registry, not beside it')
  }
  const registry = given ?? new SecretRegistry({ readFile })
  const health = sharedHealth ?? new HealthTracker()
  const env = options.env ?? readEnv
  const deps: CallDeps = {
    registry,
    reporter: callReporter(health),
    policy: retryPolicy(options.retry),
    fetch: options.fetch,
  }
  const app = new Hono<KeylineEnv>()
  const validator = new NextSecretValidator({ fetch: options.fetch })
  const auditLogger = createLogger({ sink: logSink })
  const adminLog = admin.log ?? ((line) => auditLogger.info(String(line.msg ?? 'admin'), line))
  app.use(otelFlush())
  app.use(requestId())
  app.use(redaction({ env, sink: logSink }))
  app.use(accessLog({ logger: (c) => c.var.logger }))
  app.route('/', healthRoutes(runtime))
  app.use(
    reloadEpoch({
      registry,
      validator,
      env,
      intervalMs: reloadCheckMs,
      binding: admin.epoch?.binding,
      key: admin.epoch?.key,
      log: adminLog,
    })
  )
  app.route(
    '/admin',
    adminRoutes({ ...admin, log: adminLog, registry, health, validator, env, runtime })
  )
  app.use('/v1/*', clientAuth({ env, files: registry }))
  app.use(secrets({ ...secretsOptions, env, registry, health }))
  // Fyers first: every other `/v1/*` path is Anthropic's (its passthrough catches the rest).
  app.route('/', fyersRoutes({ deps, env }))
  app.route('/', anthropicRoutes({ deps, env, maxBodyBytes }))
  app.notFound((c) =>
    errorResponse(c, 404, { error: { type: 'not_found', message: 'No such route' } })
  )
  app.onError(onError)
  return app
}

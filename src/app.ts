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
import { CallObserver } from './proxy/observe.ts'
import { retryPolicy } from './proxy/retry-policy.ts'
import { NextSecretValidator } from './rotation/next-validator.ts'
import { reloadEpoch } from './rotation/reload-epoch.ts'
import { anthropicRoutes } from './routes/anthropic.ts'
import { fyersRoutes } from './routes/fyers.ts'
import { healthRoutes } from './routes/health.ts'
import { SecretRegistry } from './secrets/registry.ts'
import { otelFlush } from './telemetry/export/otel-flush.ts'

/** Options of {@link createApp}. */
export interface AppOptions extends Omit<SecretsOptions, 'registry'> {
  /**
   * Runtime name reported by `/healthz`.
   * @default hono/adapter's getRuntimeKey()
   */
  runtime?: string
  /** A registry to share with code outside the app. @default a new one built from `readFile` */
  registry?: SecretRegistry
  /** Upstream health, shared with the admin status. @default a new tracker */
  health?: HealthTracker
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
 * Workers entries pass what only they have (a file reader, the runtime's name).
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
  const registry = given ?? new SecretRegistry({ readFile })
  const health = sharedHealth ?? new HealthTracker()
  const policy = retryPolicy(options.retry)
  const env = options.env ?? readEnv
  const deps = { registry, env, observer: new CallObserver(health), policy, fetch: options.fetch }
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
  app.use('/v1/*', clientAuth({ env }))
  app.use(secrets({ ...secretsOptions, env, registry }))
  app.route('/', anthropicRoutes({ ...deps, maxBodyBytes }))
  app.route('/', fyersRoutes(deps))
  app.notFound((c) =>
    errorResponse(c, 404, { error: { type: 'not_found', message: 'No such route' } })
  )
  app.onError(onError)
  return app
}

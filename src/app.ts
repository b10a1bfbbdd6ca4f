import { Hono } from 'hono'
import { requestId } from 'hono/request-id'
import { clientAuth } from './auth/client-auth.ts'
import { readEnv } from './env.ts'
import { errorResponse, onError } from './errors/on-error.ts'
import { HealthTracker } from './health/provider-health.ts'
import { type SecretsOptions, type SecretsVariables, secrets } from './middleware/secrets.ts'
import { CallObserver } from './proxy/observe.ts'
import { retryPolicy } from './proxy/retry-policy.ts'
import { anthropicRoutes } from './routes/anthropic.ts'
import { fyersRoutes } from './routes/fyers.ts'
import { healthRoutes } from './routes/health.ts'
import { SecretRegistry } from './secrets/registry.ts'

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
}

/** The Hono environment of a keyline app. */
export type KeylineEnv = { Variables: SecretsVariables & { requestId: string } }

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
    ...secretsOptions
  } = options
  const registry = given ?? new SecretRegistry({ readFile })
  const health = sharedHealth ?? new HealthTracker()
  const policy = retryPolicy(options.retry)
  const deps = { registry, observer: new CallObserver(health), policy, fetch: options.fetch }
  const env = options.env ?? readEnv
  const app = new Hono<KeylineEnv>()
  app.use(requestId())
  app.route('/', healthRoutes(runtime))
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

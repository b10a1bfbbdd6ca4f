import { Hono } from 'hono'
import { requestId } from 'hono/request-id'
import { errorResponse, onError } from './errors/on-error.ts'
import { type SecretsOptions, type SecretsVariables, secrets } from './middleware/secrets.ts'
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
}

/** The Hono environment of a keyline app. */
export type KeylineEnv = { Variables: SecretsVariables & { requestId: string } }

/**
 * Composes keyline's middleware and routes into one Hono app. Runtime-free: the Node, Deno and
 * Workers entries pass what only they have (a file reader, the runtime's name).
 */
export const createApp = (options: AppOptions = {}): Hono<KeylineEnv> => {
  const { runtime, readFile, registry: given, ...secretsOptions } = options
  const registry = given ?? new SecretRegistry({ readFile })
  const app = new Hono<KeylineEnv>()
  app.use(requestId())
  app.route('/', healthRoutes(runtime))
  app.use(secrets({ ...secretsOptions, registry }))
  app.notFound((c) =>
    errorResponse(c, 404, { error: { type: 'not_found', message: 'No such route' } })
  )
  app.onError(onError)
  return app
}

import type { Context, MiddlewareHandler } from 'hono'
import type { EnvRecord } from '../env.ts'
import { type EnvReader, readEnv } from '../env.ts'
import type { SecretRegistry } from '../secrets/registry.ts'

/** Options of {@link storeEnvironment}. */
export interface StoreEnvironmentOptions {
  /** The registry whose stores fill the environment. */
  registry: SecretRegistry
  /** How the request's own environment is read. @default readEnv */
  env?: EnvReader
}

const overlaid = new WeakMap<Context, EnvRecord>()

/**
 * The reader to give every later middleware: the request's environment with store values laid
 * over it once {@link storeEnvironment} has run, `env(c)` before.
 */
export const storeAwareEnv =
  (env: EnvReader = readEnv): EnvReader =>
  (c) =>
    overlaid.get(c) ?? env(c)

/**
 * Lays each secure store's cached value over the request's environment (`NAME_AWS_SECRET`,
 * `NAME_AWS_PARAMETER`, Secrets Store bindings), so what reads credentials as variables (admin
 * and client tokens, redaction) sees them; read it with {@link storeAwareEnv}. Waits for a due
 * store fetch at most its timeout.
 */
export const storeEnvironment = (options: StoreEnvironmentOptions): MiddlewareHandler => {
  const { registry } = options
  if (!registry) throw new TypeError('storeEnvironment(): registry is required')
  const readRequestEnv = options.env ?? readEnv
  return async function storeEnvironmentMiddleware(c, next) {
    const base = readRequestEnv(c)
    const laid = registry.environment(base)
    const env = laid instanceof Promise ? await laid : laid
    if (env !== base) overlaid.set(c, env)
    await next()
  }
}

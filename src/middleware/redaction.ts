import type { Context, MiddlewareHandler } from 'hono'
import { type EnvReader, readEnv } from '../env.ts'
import { createLogger, type Logger, type LoggerOptions } from '../log/logger.ts'
import { createRedactor, type Redactor } from '../redact/redactor.ts'
import type { SecretsSnapshot } from '../secrets/registry.ts'
import { RequestRedactors } from './request-secrets.ts'

/** Options of {@link redaction}. */
export interface RedactionOptions {
  /** How the request's environment is read (for `LOG_LEVEL` and the secrets). @default readEnv */
  env?: EnvReader
  /** Extra header names to mask, besides authorization, x-api-key, cookie and the like. @default [] */
  headers?: string[]
  /** Where log lines go. @default consoleSink() */
  sink?: LoggerOptions['sink']
}

/** What {@link redaction} puts on `c.var`. */
export interface RedactionVariables {
  /** The redactor of this request: it knows every secret the request may hold. */
  redactor: () => Redactor
  /** The logger of this request, at `LOG_LEVEL`, redacting with {@link redactor}. */
  logger: Logger
}

const base = createRedactor({ stacks: false })
const fallbackRedactors = new RequestRedactors(base)

/**
 * The redactor a request should use: the one {@link redaction} installed, or one built from the
 * request's environment and secrets when that middleware is not mounted. Never throws.
 */
export const redactorOf = (c: Context, env: EnvReader = readEnv): Redactor => {
  const installed = c.get('redactor') as (() => Redactor) | undefined
  if (installed) return installed()
  try {
    return fallbackRedactors.for(env(c), c.get('secrets') as SecretsSnapshot | undefined)
  } catch {
    return base
  }
}

/**
 * Installs a per-request redactor and logger on `c.var` (`redactor`, `logger`) for everything
 * after it: the access log, `onError`, the proxy's relayed upstream errors, the admin audit.
 * The redactor is built when first used, from the secrets known at that moment.
 */
export const redaction = (
  options: RedactionOptions = {}
): MiddlewareHandler<{ Variables: RedactionVariables }> => {
  const readRequestEnv = options.env ?? readEnv
  const redactor = options.headers
    ? createRedactor({ stacks: false, headers: options.headers })
    : base
  const loggers = new Map<string, Logger>()
  const loggerAt = (level: string): Logger => {
    let logger = loggers.get(level)
    if (!logger) {
      logger = createLogger({ level, redactor, sink: options.sink })
      loggers.set(level, logger)
    }
    return logger
  }

  const redactors = redactor === base ? fallbackRedactors : new RequestRedactors(redactor)

  return async function redaction(c, next) {
    const env = readRequestEnv(c)
    // One look-up per request and snapshot: the redactor is built once per set of secret values.
    let built: Redactor | undefined
    let builtFor: unknown
    const current = (): Redactor => {
      const snapshot = c.get('secrets') as SecretsSnapshot | undefined
      if (!built || builtFor !== snapshot) {
        built = redactors.for(env, snapshot)
        builtFor = snapshot
      }
      return built
    }
    c.set('redactor', current)
    const level = typeof env.LOG_LEVEL === 'string' ? env.LOG_LEVEL : 'info'
    c.set('logger', loggerAt(level).child({}, current))
    await next()
  }
}

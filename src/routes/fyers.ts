import { Hono } from 'hono'
import { MAX_SYMBOLS } from '../catalog/fyers.ts'
import type { EnvReader } from '../env.ts'
import { KeylineError } from '../errors/keyline-error.ts'
import { callScope, type SecretsVariables } from '../middleware/secrets.ts'
import type { CallDeps } from '../providers/call.ts'
import { fyersQuotes } from '../providers/fyers/call.ts'

/** Options of {@link fyersRoutes}. */
export interface FyersRoutesOptions {
  /** The provider call's dependencies, shared with the rest of the app. */
  readonly deps: CallDeps
  /** How the request's environment is read. */
  readonly env: EnvReader
}

type Env = { Variables: SecretsVariables }

const SYMBOL = /^[A-Z]{2,10}:[A-Za-z0-9&_.-]{1,60}$/

/**
 * Parses `symbols=NSE:SBIN-EQ,NSE:TCS-EQ`: 1 to 50 symbols of the form `EXCHANGE:SYMBOL`,
 * duplicates dropped. Throws a 400 naming the bad symbols (each cut to 64 characters).
 */
export const parseSymbols = (raw: string | undefined): string[] => {
  const symbols = [
    ...new Set(
      (raw ?? '')
        .split(',')
        .map((s) => s.trim())
        .filter(Boolean)
    ),
  ]
  if (symbols.length === 0) {
    throw new KeylineError(
      400,
      'invalid_request_error',
      'symbols is required: e.g. symbols=NSE:SBIN-EQ,NSE:TCS-EQ'
    )
  }
  if (symbols.length > MAX_SYMBOLS) {
    throw new KeylineError(
      400,
      'invalid_request_error',
      `At most ${MAX_SYMBOLS} symbols per request; got ${symbols.length}`
    )
  }
  const invalid = symbols.filter((s) => !SYMBOL.test(s)).map((s) => s.slice(0, 64))
  if (invalid.length) {
    throw new KeylineError(
      400,
      'invalid_request_error',
      'Symbols must look like EXCHANGE:SYMBOL, e.g. NSE:SBIN-EQ',
      { details: { invalid_symbols: invalid.slice(0, MAX_SYMBOLS) } }
    )
  }
  return symbols
}

/**
 * The Fyers proxy: `GET /v1/quotes?symbols=…` answers Fyers' envelope; the provider's one call
 * checks the HTTP status, `s` and the `d` array, and fails over to the next token when Fyers
 * rejects the current one.
 */
export const fyersRoutes = (options: FyersRoutesOptions): Hono<Env> => {
  const { deps, env } = options
  const app = new Hono<Env>()

  app.get('/v1/quotes', async (c) => {
    const symbols = parseSymbols(c.req.query('symbols'))
    const result = await fyersQuotes(deps, callScope(c, env), c.var.secrets.fyers, symbols)
    c.header('keyline-key-slot', result.slot)
    if (result.failedSymbols) c.header('keyline-quote-errors', String(result.failedSymbols))
    return c.body(result.body, 200, { 'content-type': 'application/json' })
  })

  return app
}

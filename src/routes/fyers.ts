import type { Hono } from 'hono'
import { FYERS_REFUSED_PATH, fyersOperationOf, MAX_SYMBOLS } from '../catalog/fyers.ts'
import type { EnvReader, EnvRecord } from '../env.ts'
import { KeylineError } from '../errors/keyline-error.ts'
import { honoApp } from '../hono-app.ts'
import { callScope, type SecretsVariables } from '../middleware/secrets.ts'
import type { CallDeps } from '../providers/call.ts'
import { type FyersAnswer, fyersPassthrough, fyersQuotes } from '../providers/fyers/call.ts'
import { tradingRefusal } from '../providers/fyers/trading.ts'
import { readLimited } from './anthropic.ts'

/** One Fyers trading call, as the audit line and the rotation events log keep it: who, what. */
export interface FyersTrade {
  /** The client token's name (`unnamed` for a token without one). */
  readonly client: string
  /** The operation, e.g. `place_order`, and its method and Fyers path (no query, no body). */
  readonly operation: string
  readonly method: string
  readonly path: string
  /** `ok` when Fyers accepted it, `rejected` when keyline or Fyers refused it, else `error`. */
  readonly result: 'ok' | 'rejected' | 'error'
  /** Why, when it did not pass: keyline's error type or Fyers' code. */
  readonly reason?: string
}

/** Options of {@link fyersRoutes}. */
export interface FyersRoutesOptions {
  /** The provider call's dependencies, shared with the rest of the app. */
  readonly deps: CallDeps
  /** How the request's environment is read. */
  readonly env: EnvReader
  /**
   * Told of every trading call (`/fyers/*` with a method other than `GET`), allowed or refused;
   * awaited before the answer goes out, so it must not throw. @default none
   */
  readonly onTrade?: (env: EnvRecord, trade: FyersTrade) => Promise<void>
  /**
   * Largest trading call body, in bytes.
   * @default 65536
   */
  readonly maxBodyBytes?: number
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
 * A Fyers path under `/fyers`: segments of the characters Fyers' paths use, none empty, none a
 * dot segment, no escapes (so no `%2e%2e`, `%2f`, `//host` or backslash reaches the upstream).
 */
const FYERS_PATH = /^(?:\/(?!\.\.?(?:\/|$))[\w.-]+)+$/

/**
 * The Fyers proxy: `GET /v1/quotes?symbols=…` answers Fyers' envelope (the provider's one call
 * checks the HTTP status, `s` and the `d` array); `/fyers/*` forwards Fyers' own paths, path and
 * query unchanged, with keyline's `authorization: <app id>:<token>` and `version`, reads freely
 * and trading calls only when the trading switch lets the client through. Both fail over to the
 * next token when Fyers rejects the current one.
 */
export const fyersRoutes = (options: FyersRoutesOptions): Hono<Env> => {
  const { deps, env, onTrade } = options
  const maxBodyBytes = options.maxBodyBytes ?? 64 * 1024
  if (!Number.isInteger(maxBodyBytes) || maxBodyBytes <= 0) {
    throw new RangeError('maxBodyBytes must be a positive integer')
  }
  const app = honoApp<Env>()

  app.get('/v1/quotes', async (c) => {
    const symbols = parseSymbols(c.req.query('symbols'))
    const result = await fyersQuotes(deps, callScope(c, env), c.var.secrets.fyers, symbols)
    c.header('keyline-key-slot', result.slot)
    if (result.failedSymbols) c.header('keyline-quote-errors', String(result.failedSymbols))
    return c.body(result.body, 200, { 'content-type': 'application/json' })
  })

  app.all('/fyers/*', async (c) => {
    const { pathname, search } = new URL(c.req.url)
    const path = pathname.slice(6)
    // The URL parser resolves `%2e%2e` segments: a path that climbed out no longer starts so.
    if (!pathname.startsWith('/fyers/') || !FYERS_PATH.test(path)) {
      throw new KeylineError(400, 'invalid_request_error', 'Not a Fyers API path under /fyers/')
    }
    if (FYERS_REFUSED_PATH.test(path)) {
      throw new KeylineError(403, 'forbidden', 'keyline never forwards Fyers token or logout calls')
    }
    const raw = c.req.raw
    const method = raw.method === 'HEAD' ? 'GET' : raw.method
    const operation = fyersOperationOf(method, path)
    const scope = callScope(c, env)
    const trading = method !== 'GET'
    const client = c.get('clientName')
    const audit = (result: FyersTrade['result'], reason?: string): Promise<void> | undefined =>
      trading
        ? onTrade?.(scope.env, { client, operation, method, path, result, reason })
        : undefined
    const refusal = trading && tradingRefusal(scope.env, client, operation)
    if (refusal) {
      await audit('rejected', refusal.type)
      throw refusal
    }
    let answer: FyersAnswer
    try {
      const body = trading ? await readLimited(raw, maxBodyBytes) : undefined
      answer = await fyersPassthrough(deps, scope, c.var.secrets.fyers, operation, {
        method,
        path: path + search,
        body: body?.byteLength ? body : undefined,
        contentType: raw.headers.get('content-type') ?? undefined,
      })
    } catch (error) {
      const known = error instanceof KeylineError
      await audit(
        known && error.status < 500 ? 'rejected' : 'error',
        known ? error.type : 'internal_error'
      )
      throw error
    }
    await audit(
      answer.ok ? 'ok' : 'rejected',
      answer.ok ? undefined : `fyers_code_${answer.fyersCode ?? 'none'}`
    )
    c.header('keyline-key-slot', answer.slot)
    return c.body(answer.body, answer.status as 200, { 'content-type': 'application/json' })
  })

  return app
}

import { KeylineError } from '../errors/keyline-error.ts'

/** Most symbols one quotes request may name (Fyers' own limit). */
export const MAX_SYMBOLS = 50

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

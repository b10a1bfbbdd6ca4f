/**
 * The Fyers trading switch, in one place for `/fyers/*` and `c.var.fyers`: reads pass, and a
 * call that places, modifies or cancels orders or converts positions (every method but `GET`)
 * is refused unless `KEYLINE_FYERS_TRADING=on` and, when `KEYLINE_FYERS_TRADING_CLIENTS` is
 * set, the request's client token is one it names.
 */
import { FYERS_TRADING_CLIENTS_VARIABLE, FYERS_TRADING_VARIABLE } from '../../catalog/fyers.ts'
import type { EnvRecord } from '../../env.ts'
import { KeylineError } from '../../errors/keyline-error.ts'

let parsed: { raw: string; names: ReadonlySet<string> } | undefined

/** The names `KEYLINE_FYERS_TRADING_CLIENTS` lists, parsed once per value. */
const allowedClients = (raw: string): ReadonlySet<string> => {
  if (parsed?.raw !== raw) {
    const names = raw.split(',').map((name) => name.trim())
    parsed = { raw, names: new Set(names.filter(Boolean)) }
  }
  return parsed.names
}

/**
 * Why `client` may not make the trading call `operation` in `env`: the 403 to throw, or
 * `undefined` when it may.
 */
export const tradingRefusal = (
  env: EnvRecord,
  client: string | undefined,
  operation: string
): KeylineError | undefined => {
  if (String(env[FYERS_TRADING_VARIABLE] ?? '').trim() !== 'on') {
    return new KeylineError(
      403,
      'trading_disabled',
      `Fyers trading through keyline is off (${operation} places, modifies or cancels orders or converts positions): set "${FYERS_TRADING_VARIABLE}=on" to allow it`,
      { details: { provider: 'fyers', operation } }
    )
  }
  const list = env[FYERS_TRADING_CLIENTS_VARIABLE]
  if (typeof list !== 'string' || list.trim() === '') return undefined
  if (client !== undefined && allowedClients(list).has(client)) return undefined
  return new KeylineError(
    403,
    'trading_not_allowed',
    `This client token may not trade on Fyers: ${FYERS_TRADING_CLIENTS_VARIABLE} names the client tokens that may`,
    { details: { provider: 'fyers', operation } }
  )
}

/**
 * The Fyers trading switch, in one place for `/fyers/*` and `c.var.fyers`: reads pass, and a
 * call that places, modifies or cancels orders or converts positions (every method but `GET`)
 * is refused unless `KEYLINE_FYERS_TRADING=on` and, when `KEYLINE_FYERS_TRADING_CLIENTS` is
 * set, the request's client token is one it names.
 */
import { FYERS_TRADING_CLIENTS_VARIABLE, FYERS_TRADING_VARIABLE } from '../../catalog/fyers.ts'
import type { EnvRecord } from '../../env.ts'
import { KeylineError } from '../../errors/keyline-error.ts'

/**
 * Whether `KEYLINE_FYERS_TRADING` switches trading on: `on`, in any case, nothing else (`true`,
 * `1`, `yes` leave it read only, and the entries warn at start).
 */
export const tradingOn = (raw: unknown): boolean =>
  typeof raw === 'string' && raw.trim().toLowerCase() === 'on'

/**
 * Why `client` may not make the trading call `operation` in `env`: the 403 to throw, or
 * `undefined` when it may.
 */
export const tradingRefusal = (
  env: EnvRecord,
  client: string | undefined,
  operation: string
): KeylineError | undefined => {
  if (!tradingOn(env[FYERS_TRADING_VARIABLE])) {
    return new KeylineError(
      403,
      'trading_disabled',
      `Fyers trading is off: set "${FYERS_TRADING_VARIABLE}=on" to allow ${operation}`
    )
  }
  const list = String(env[FYERS_TRADING_CLIENTS_VARIABLE] ?? '')
  if (list.trim() === '') return undefined
  if (list.split(',').some((name) => name.trim() === client)) return undefined
  return new KeylineError(
    403,
    'trading_not_allowed',
    `This client may not ${operation}: see ${FYERS_TRADING_CLIENTS_VARIABLE}`
  )
}

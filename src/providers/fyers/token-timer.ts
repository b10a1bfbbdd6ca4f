/**
 * The in-process timer that keeps the Fyers access token fresh on Node and Deno (Workers have
 * no timers between requests: cron and on-demand refreshes serve them). Only the server
 * wiring imports it, so the Worker carries none of it; it is handed to
 * `FyersTokens.startTimer` as a hook.
 */

import { jwtExpiry } from '../../catalog/fyers.ts'
import type { EnvRecord } from '../../env.ts'
import { unrefTimer } from '../../runtime.ts'
import { DAY_MS } from './token-record.ts'
import { type FyersTokenRefresh, refreshMissing } from './token-refresh.ts'
import type { FyersTokenContext, FyersTokenVault } from './token-vault.ts'

/** The timer refreshes this long before expiry at most (a tenth of what is left, for short tokens). */
const TIMER_LEAD_MS = 5 * 60 * 1000
const MIN_TIMER_GAP_MS = 60_000

/** What the timer works with: the parts of one `FyersTokens`. */
export interface RefreshTimerParts {
  readonly context: FyersTokenContext
  readonly vault: FyersTokenVault
  readonly refresh: FyersTokenRefresh
}

/** Starts the timer over a `FyersTokens`' parts; returns a function that stops it. */
export type StartRefreshTimer = (parts: RefreshTimerParts, readEnv: () => EnvRecord) => () => void

/**
 * Keeps the access token fresh from an in-process timer: it fires shortly before the token's
 * `exp` (five minutes, or a tenth of what is left), refreshes, and sets itself again; after a
 * failure it retries with backoff. A timer whose token was replaced meanwhile (another
 * instance refreshed, and this one took its token) only plans again, from the new token's
 * `exp`. Returns a function that stops it.
 */
export const startRefreshTimer: StartRefreshTimer = ({ context, vault, refresh }, readEnv) => {
  let stopped = false
  let planned: string | undefined
  let timer: ReturnType<typeof setTimeout> | undefined
  const plan = async (): Promise<void> => {
    if (stopped) return
    const env = readEnv()
    await vault.ensureLoaded(env)
    const snapshot = await context.registry.resolveProvider(env, 'fyers')
    const possible = refreshMissing(snapshot).length === 0 && !refresh.refreshTokenExpired(snapshot)
    const token = snapshot.credentials.accessToken.current?.reveal()
    const exp = token === undefined ? undefined : jwtExpiry(token)
    const now = context.now()
    const { failures, last } = refresh
    // A token other than the one planned for last: obtained elsewhere (another instance, a
    // reload), so earlier failures say nothing of when it is due.
    const replaced = token !== planned
    planned = token
    let delay: number
    if (!possible) delay = 3600_000
    else if (failures > 0 && !replaced) delay = Math.min(30 * 60_000, 30_000 * 2 ** (failures - 1))
    else if (token === undefined) delay = 0
    else if (exp === undefined) delay = 3600_000
    else delay = Math.max(0, exp - now - Math.min(TIMER_LEAD_MS, (exp - now) / 10))
    // Never back to back: a refresh that brought no later `exp` (a clock ahead) waits a minute.
    const sinceLast = last ? now - last.at : Number.POSITIVE_INFINITY
    if (sinceLast < MIN_TIMER_GAP_MS) delay = Math.max(delay, MIN_TIMER_GAP_MS - sinceLast)
    delay = Math.min(delay, DAY_MS)
    const due =
      possible && (token === undefined || exp !== undefined || (failures > 0 && !replaced))
    refresh.nextAt = due ? now + delay : undefined
    if (timer !== undefined) clearTimeout(timer)
    timer = setTimeout(() => {
      const env = readEnv()
      const run = due
        ? vault
            .currentToken(env)
            .then((current) =>
              current?.reveal() === token ? refresh.refresh(env, 'timer') : undefined
            )
        : Promise.resolve()
      run.then(plan, plan)
    }, delay)
    unrefTimer(timer)
  }
  plan().catch(() => {
    context.log({ level: 'warn', msg: 'fyers refresh timer could not start' })
  })
  return () => {
    stopped = true
    if (timer !== undefined) clearTimeout(timer)
    refresh.nextAt = undefined
  }
}

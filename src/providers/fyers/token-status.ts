/**
 * The Fyers token status: what the admin status says of the tokens — their sources and
 * expiries, whether refresh and sign-in are possible, the last refresh, the vault — never a token.
 */

import { jwtExpiry } from '../../catalog/fyers.ts'
import type { EnvRecord } from '../../env.ts'
import { signInMissing } from './sign-in.ts'
import { DAY_MS, type FyersSnapshot, iso } from './token-record.ts'
import { type FyersTokenRefresh, type RefreshTrigger, refreshMissing } from './token-refresh.ts'
import type { FyersTokenVault } from './token-vault.ts'

/** The Fyers token part of the admin status: expiries and outcomes, never a token. */
export interface FyersTokenStatus {
  readonly accessToken: { readonly source: string | null; readonly expiresAt: string | null }
  readonly refreshToken: {
    readonly source: string | null
    readonly expiresAt: string | null
    readonly daysLeft: number | null
    /** Whether it has expired (by its `exp`): it is not sent to Fyers, a sign-in is needed. */
    readonly expired: boolean
  }
  /**
   * Whether keyline can refresh, and the variables missing when it cannot (none missing and not
   * possible: the refresh token has expired).
   */
  readonly refresh: {
    readonly possible: boolean
    readonly missing: readonly string[]
    readonly last: {
      readonly at: string
      readonly outcome: 'success' | 'failure'
      readonly trigger: RefreshTrigger
      readonly reason: string | null
    } | null
    /** When this instance's timer refreshes next (Node and Deno). */
    readonly nextAt: string | null
  }
  readonly signIn: {
    readonly possible: boolean
    readonly missing: readonly string[]
    /**
     * Whether only a sign-in brings a working token: the refresh token has expired, or there is
     * none and the access token is missing or has expired.
     */
    readonly needed: boolean
  }
  /** Whether tokens keyline obtains survive a restart, and where they are kept. */
  readonly vault: {
    readonly persisted: boolean
    readonly store: string | null
    readonly reason: string | null
  }
}

/** What the status is read from: the vault and refresh parts of an instance, and its clock. */
export interface FyersTokenStatusSources {
  readonly vault: FyersTokenVault
  readonly refresh: FyersTokenRefresh
  readonly now: () => number
}

/** The token part of the status for a snapshot: expiries, last refresh, vault; no token. */
export const fyersTokenStatus = (
  { vault: tokenVault, refresh: refresher, now }: FyersTokenStatusSources,
  env: EnvRecord,
  snapshot: FyersSnapshot
): FyersTokenStatus => {
  const access = snapshot.credentials.accessToken.current
  const refresh = snapshot.credentials.refreshToken.current
  const refreshExp = tokenVault.refreshTokenExpiry(snapshot)
  const missing = refreshMissing(snapshot)
  const signInNeeds = signInMissing(snapshot)
  const { store, vault, reason } = tokenVault.vaultOf(env)
  const last = refresher.last
  const refreshExpired = refresher.refreshTokenExpired(snapshot)
  const accessExp = access ? jwtExpiry(access.reveal()) : undefined
  const accessGone = !access || (accessExp !== undefined && accessExp <= now())
  return {
    accessToken: {
      source: access?.source ?? null,
      expiresAt: iso(accessExp),
    },
    refreshToken: {
      source: refresh?.source ?? null,
      expiresAt: iso(refreshExp),
      daysLeft:
        refreshExp === undefined
          ? null
          : Math.max(0, Math.floor(((refreshExp - now()) / DAY_MS) * 10) / 10),
      expired: refreshExpired,
    },
    refresh: {
      possible: missing.length === 0 && !refreshExpired,
      missing,
      last: last
        ? {
            at: new Date(last.at).toISOString(),
            outcome: last.outcome,
            trigger: last.trigger,
            reason: last.reason ?? null,
          }
        : null,
      nextAt: iso(refresher.nextAt),
    },
    signIn: {
      possible: signInNeeds.length === 0,
      missing: signInNeeds,
      needed: refreshExpired || (!refresh && accessGone),
    },
    vault: {
      persisted: vault !== undefined && store?.kind !== 'memory',
      store: store?.kind ?? null,
      reason:
        vault && store?.kind === 'memory'
          ? 'the shared store is memory: tokens do not survive a restart (set KEYLINE_REDIS_URL or KEYLINE_VAULT_FILE)'
          : vault
            ? null
            : (reason ?? null),
    },
  }
}

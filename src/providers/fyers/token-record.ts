/**
 * The Fyers token record: what keyline keeps of the tokens it obtained (one JSON record in the
 * vault), how it is read back, and the facts the token parts derive from a record and the
 * provider snapshot (the binding it replaces, the refresh token's expiry, what is missing).
 */

import { jwtExpiry } from '../../catalog/fyers.ts'
import { sha256Hex } from '../../digest.ts'
import type { ProviderSnapshot } from '../../secrets/registry.ts'

/** The tokens kept in the vault, as one record. */
export interface FyersTokenRecord {
  readonly accessToken: string
  readonly refreshToken?: string
  /** When the refresh token expires (epoch ms): its `exp`, or 15 days after a sign-in. */
  readonly refreshTokenExpiresAt?: number
  /** When keyline obtained the access token (epoch ms). */
  readonly obtainedAt: number
  readonly by: 'sign-in' | 'refresh'
  /**
   * SHA-256 (hex) of the bound `FYERS_ACCESS_TOKEN` this record replaced: on a restart the
   * record replaces the binding again only while it is the same one (or lasts longer than it).
   */
  readonly replaces?: string
}

/** The Fyers part of the registry the token parts read. */
export type FyersSnapshot = ProviderSnapshot<'fyers'>

/** A day in milliseconds. */
export const DAY_MS = 24 * 3600 * 1000
/** Fyers refresh tokens last about 15 days; used when one does not say. */
const REFRESH_TOKEN_LIFETIME_MS = 15 * DAY_MS

/** Epoch milliseconds as an ISO date, or `null` for none. */
export const iso = (ms: number | undefined): string | null =>
  ms === undefined ? null : new Date(ms).toISOString()

/** SHA-256 (hex) of a token, as a record's `replaces` keeps it. */
export const digestOf = (value: string | undefined): string | undefined =>
  value === undefined ? undefined : sha256Hex(value)

/** The record in a vault's text, or `undefined` when there is none or it is not one. */
export const parseRecord = (text: string | undefined): FyersTokenRecord | undefined => {
  if (!text) return undefined
  try {
    const value = JSON.parse(text) as Partial<FyersTokenRecord> | null
    if (!value || typeof value.accessToken !== 'string' || value.accessToken === '')
      return undefined
    return {
      accessToken: value.accessToken,
      ...(typeof value.refreshToken === 'string' && value.refreshToken
        ? { refreshToken: value.refreshToken }
        : {}),
      ...(typeof value.refreshTokenExpiresAt === 'number'
        ? { refreshTokenExpiresAt: value.refreshTokenExpiresAt }
        : {}),
      obtainedAt: typeof value.obtainedAt === 'number' ? value.obtainedAt : 0,
      by: value.by === 'sign-in' ? 'sign-in' : 'refresh',
      ...(typeof value.replaces === 'string' ? { replaces: value.replaces } : {}),
    }
  } catch {
    return undefined
  }
}

/**
 * The bound access token a new record replaces (its digest), read from `snapshot`'s source;
 * else the one `previous` (this instance's record) replaced.
 */
export const replacing = (
  snapshot: FyersSnapshot,
  previous: FyersTokenRecord | undefined
): { replaces?: string } => {
  const current = snapshot.credentials.accessToken.current
  const bound = current?.source.startsWith('env:') || current?.source.startsWith('file:')
  const replaces = bound ? digestOf(current?.reveal()) : previous?.replaces
  return replaces === undefined ? {} : { replaces }
}

/**
 * The expiry to keep beside a refresh token that does not carry one: 15 days from `now()` when
 * it is `fresh` (just issued), else what `previous` kept for the same token.
 */
export const refreshExpiryFor = (
  token: string,
  fresh: boolean,
  previous: FyersTokenRecord | undefined,
  now: () => number
): { refreshTokenExpiresAt?: number } => {
  if (jwtExpiry(token) !== undefined) return {}
  if (fresh) return { refreshTokenExpiresAt: now() + REFRESH_TOKEN_LIFETIME_MS }
  const kept = previous?.refreshToken === token ? previous.refreshTokenExpiresAt : undefined
  return kept === undefined ? {} : { refreshTokenExpiresAt: kept }
}

/** When the snapshot's refresh token expires: its `exp`, else what `record` kept for it. */
export const refreshTokenExpiry = (
  snapshot: FyersSnapshot,
  record: FyersTokenRecord | undefined
): number | undefined => {
  const token = snapshot.credentials.refreshToken.current?.reveal()
  if (!token) return undefined
  const exp = jwtExpiry(token)
  if (exp !== undefined) return exp
  return record?.refreshToken === token ? record.refreshTokenExpiresAt : undefined
}

/** The variables of `needs` whose credential the snapshot lacks. */
export const missingOf = (
  snapshot: FyersSnapshot,
  needs: readonly (readonly [keyof FyersSnapshot['credentials'], string])[]
): string[] => needs.filter(([name]) => !snapshot.credentials[name].current).map(([, v]) => v)

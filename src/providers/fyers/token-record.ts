/**
 * The Fyers token record: what keyline keeps of the tokens it obtained (one JSON record in the
 * vault), how it is read back, and the facts the token parts derive from a record and the
 * provider snapshot (the binding it replaces, the refresh token's expiry, what is missing).
 */

import { jwtClaims, jwtExpiry } from '../../catalog/fyers.ts'
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

/** The latest instant a `Date` holds (epoch ms): past it `toISOString` throws. */
const LAST_DATE_MS = 8.64e15

/** Epoch milliseconds as an ISO date, or `null` for none (or for one no date can hold). */
export const iso = (ms: number | undefined): string | null =>
  ms === undefined || !Number.isFinite(ms) || Math.abs(ms) > LAST_DATE_MS
    ? null
    : new Date(ms).toISOString()

/** Shortest and longest token keyline accepts from Fyers (real ones are about 500–1 000). */
const TOKEN_LENGTH = { min: 32, max: 8192 } as const
/** Longest a granted token may last: an access token to the next morning, a refresh token 15 days. */
const TOKEN_LIFETIME_MS = { access: 7 * DAY_MS, refresh: 60 * DAY_MS } as const

/** Printable ASCII without spaces, of a plausible length: what can go in a request. */
const SENDABLE = /^[\x21-\x7e]{1,8192}$/

/** A JWT: three base64url parts, nothing else (no space, no line break). */
const JWT_SHAPE = /^[\w-]+\.[\w-]+\.[\w-]*$/

/** A Fyers app id: `<app>-<app type>`, e.g. `XB12345678-100`. */
const APP_ID_SHAPE = /^[A-Z0-9]+-(\d+)$/i

/** What a token check is given: the configured app id and, for a grant, the time. */
export interface TokenCheck {
  /** `FYERS_CLIENT_ID`: a token naming another app is refused. */
  readonly clientId?: string
  /** Now (epoch ms): an expired token, or one that lasts implausibly long, is refused. */
  readonly now?: number
}

/**
 * Why `token` is not a `kind` token Fyers could have issued for the app, or `undefined` when it
 * may be: 32 to 8 192 characters, a JWT of base64url parts (no space or line break, which would
 * break every header it goes in) whose payload is a JSON object, an `exp` in seconds (required
 * of an access token) that a date can hold and, given `now`, in the future but at most 7 days
 * away (a refresh token's 60); the app it names (`app_id`, `client_id`, a `sub` shaped as an app
 * id, `appType`), if any, the configured one. Never says anything of the token itself.
 */
export const tokenProblem = (
  token: string,
  kind: 'access' | 'refresh',
  { clientId, now }: TokenCheck = {}
): string | undefined => {
  if (token.length < TOKEN_LENGTH.min || token.length > TOKEN_LENGTH.max) {
    return `is ${token.length} characters long`
  }
  const claims = JWT_SHAPE.test(token) ? jwtClaims(token) : undefined
  if (!claims) return 'is not a JWT with a JSON payload'
  const { exp, appType, sub } = claims
  const ms = Number(exp) * 1000
  if (exp !== undefined || kind === 'access') {
    if (typeof exp !== 'number' || !(Math.abs(ms) <= LAST_DATE_MS)) return 'has no usable exp'
    if (now !== undefined && ms <= now) return `expired at ${iso(ms)}`
    if (now !== undefined && ms > now + TOKEN_LIFETIME_MS[kind]) {
      return `expires implausibly late (${iso(ms)})`
    }
  }
  const type = APP_ID_SHAPE.exec(clientId ?? '')?.[1]
  const named = [claims.app_id, claims.client_id, APP_ID_SHAPE.test(String(sub)) ? sub : clientId]
  const other =
    named.some((id) => typeof id === 'string' && id !== clientId) ||
    (type !== undefined && appType !== undefined && String(appType) !== type)
  return clientId && other ? 'was issued for another app' : undefined
}

/**
 * Why a grant is refused (its access token's problem, else its refresh token's), or `undefined`
 * when both may be what Fyers issues for the app.
 */
export const grantProblem = (
  grant: { readonly accessToken: string; readonly refreshToken?: string | undefined },
  check: TokenCheck
): string | undefined => {
  const access = tokenProblem(grant.accessToken, 'access', check)
  if (access) return `the access token ${access}`
  const refresh =
    grant.refreshToken === undefined
      ? undefined
      : tokenProblem(grant.refreshToken, 'refresh', check)
  return refresh ? `the refresh token ${refresh}` : undefined
}

/** SHA-256 (hex) of a token, as a record's `replaces` keeps it. */
export const digestOf = (value: string | undefined): string | undefined =>
  value === undefined ? undefined : sha256Hex(value)

/** The record in a vault's text, or `undefined` when there is none or it is not one. */
export const parseRecord = (text: string | undefined): FyersTokenRecord | undefined => {
  if (!text) return undefined
  try {
    const value = JSON.parse(text) as Partial<FyersTokenRecord> | null
    // A record holding what Fyers cannot have issued (written before grants were checked, or
    // by whoever can write the store) is none: the next refresh or sign-in replaces it.
    if (
      !value ||
      typeof value.accessToken !== 'string' ||
      tokenProblem(value.accessToken, 'access') !== undefined
    )
      return undefined
    return {
      accessToken: value.accessToken,
      // The refresh token may be the bound one, kept beside a refreshed access token: any
      // token that fits in a request.
      ...(typeof value.refreshToken === 'string' && SENDABLE.test(value.refreshToken)
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

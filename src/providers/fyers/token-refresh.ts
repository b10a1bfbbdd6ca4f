/**
 * The Fyers access-token refresh: from the refresh token and the PIN, one refresh at a time in an
 * instance (single-flight) and in the deployment (a lock in the shared store, or the token
 * another instance stored), with a backoff after failures, on demand after Fyers rejected a
 * token, from cron when due, and from an in-process timer.
 */

import { within } from '../../bounded-wait.ts'
import { fyersDefinition, jwtExpiry } from '../../catalog/fyers.ts'
import { toHex } from '../../encoding.ts'
import type { EnvRecord } from '../../env.ts'
import type { Secret } from '../../secrets/secret.ts'
import { type LockState, releaseLock, takeLock } from '../../store/lock.ts'
import type { SharedStore } from '../../store/shared-store.ts'
import { recordTokenRefresh } from '../../telemetry/record.ts'
import {
  FyersApiError,
  type FyersAppCredentials,
  type FyersTokenGrant,
  fyersRefreshAccessToken,
} from './client.ts'
import {
  type FyersSnapshot,
  type FyersTokenRecord,
  grantProblem,
  iso,
  missingOf,
  parseRecord,
  refreshExpiryFor,
  replacing,
} from './token-record.ts'
import { FYERS_VAULT_NAME, type FyersTokenContext, type FyersTokenVault } from './token-vault.ts'

/** What started a refresh. */
export type RefreshTrigger = 'timer' | 'cron' | 'on-demand' | 'admin'

/** The last refresh an instance made or saw, for the status. */
export interface RefreshRecord {
  /** Epoch milliseconds. */
  readonly at: number
  readonly outcome: 'success' | 'failure'
  readonly trigger: RefreshTrigger
  /** Why it failed (a Fyers code, `network`, …), or that another instance did it. */
  readonly reason?: string
}

/** What a refresh did. */
export type RefreshResult =
  | { readonly ok: true; readonly token: Secret | undefined; readonly by: 'this' | 'another' }
  | { readonly ok: false; readonly reason: string }

/** Called once per refresh an instance ran, with its outcome (see `FyersTokensOptions`). */
export type OnRefresh = (
  env: EnvRecord,
  trigger: RefreshTrigger,
  result: RefreshResult
) => Promise<void>

/** The shared lock that lets one instance refresh at a time. */
export const FYERS_REFRESH_LOCK = 'keyline:lock:fyers-refresh'
const LOCK_TTL_MS = 30_000
const WAIT_FOR_OTHER_MS = 15_000
/** After a failed on-demand refresh, rejections do not start another for this long. */
const ON_DEMAND_BACKOFF_MS = 60_000

const V = fyersDefinition.credentials
const REFRESH_NEEDS = [
  ['clientId', V.clientId.env[0]],
  ['appSecret', V.appSecret.env[0]],
  ['refreshToken', V.refreshToken.env[0]],
  ['pin', V.pin.env[0]],
] as const

/** The variables a refresh needs that the snapshot lacks (none: a refresh is possible). */
export const refreshMissing = (snapshot: FyersSnapshot): string[] =>
  missingOf(snapshot, REFRESH_NEEDS)

/** Why a refresh is not tried once the refresh token has expired: only a sign-in helps. */
export const REFRESH_TOKEN_EXPIRED = 'refresh token expired: sign in again'

/** A random owner of a shared-store lock (a lock answers `true` again to the owner holding it). */
export const lockOwner = (): string => toHex(crypto.getRandomValues(new Uint8Array(16)))

/** The short reason of a failed token call, for the status, the log and the metric's log line. */
export const failureReason = (error: unknown): string => {
  if (error instanceof FyersApiError) {
    return error.code === undefined ? `http_${error.httpStatus}` : `fyers_code_${error.code}`
  }
  if (error instanceof Error && (error.name === 'TimeoutError' || error.name === 'AbortError')) {
    return 'timeout'
  }
  return 'network'
}

/**
 * The refresh of the Fyers access token in one instance: runs refreshes, remembers the last one
 * and the failures since the last success (for the backoff and the status), and keeps the timer.
 */
export class FyersTokenRefresh {
  readonly #context: FyersTokenContext
  readonly #vault: FyersTokenVault
  readonly #onRefresh: OnRefresh | undefined
  #flight: Promise<RefreshResult> | undefined
  #last: RefreshRecord | undefined
  #onDemandAfter = 0
  #failures = 0
  /** When the in-process timer (`token-timer.ts`) refreshes next (epoch ms), if it runs and one is due. */
  nextAt: number | undefined

  constructor(context: FyersTokenContext, vault: FyersTokenVault, onRefresh?: OnRefresh) {
    this.#context = context
    this.#vault = vault
    this.#onRefresh = onRefresh
  }

  /** The last refresh this instance made or saw. */
  get last(): RefreshRecord | undefined {
    return this.#last
  }

  /** Failed refreshes since the last success (the timer backs off by them). */
  get failures(): number {
    return this.#failures
  }

  /**
   * The steps a refresh and a completed sign-in end with: keeps `record` (registry, vault, other
   * instances), runs `settle` (what the caller marks as soon as it is kept), counts no failures
   * any more, and logs `msg` (and its fields) with the fingerprint of the access token the
   * registry now hands out. Returns that token.
   */
  async obtained(
    env: EnvRecord,
    record: FyersTokenRecord,
    source: string,
    settle: () => void,
    { msg, ...fields }: { readonly msg: string } & Record<string, unknown>
  ): Promise<Secret | undefined> {
    await this.#vault.keep(env, record, source)
    settle()
    this.#failures = 0
    const token = await this.#vault.currentToken(env)
    const fingerprint = token?.fingerprint ?? null
    this.#context.log({ level: 'info', msg, provider: 'fyers', ...fields, token: fingerprint })
    return token
  }

  /**
   * Whether the snapshot's refresh token has expired, by its `exp` (or the expiry kept beside a
   * token without one): Fyers would refuse it, so it is not sent.
   */
  refreshTokenExpired(snapshot: FyersSnapshot): boolean {
    const exp = this.#vault.refreshTokenExpiry(snapshot)
    return exp !== undefined && exp <= this.#context.now()
  }

  /**
   * A token obtained elsewhere became current (a reload read another instance's from the vault):
   * that was a success, so the failures before it count no more.
   */
  tokenObtainedElsewhere(): void {
    this.#failures = 0
  }

  /** After a completed sign-in: rejections may start an on-demand refresh again at once. */
  clearBackoff(): void {
    this.#onDemandAfter = 0
  }

  /**
   * Refreshes the access token now: one refresh at a time in this instance (callers during one
   * share it) and, with a shared store, in the deployment (an instance that finds the lock taken
   * waits for the token the other one stores). Never throws; the result says what happened.
   */
  refresh(env: EnvRecord, trigger: RefreshTrigger): Promise<RefreshResult> {
    this.#flight ??= this.#refresh(env, trigger)
      .then(async (result) => {
        await this.#onRefresh?.(env, trigger, result).catch(() => undefined)
        return result
      })
      .finally(() => {
        this.#flight = undefined
      })
    return this.#flight
  }

  async #refresh(env: EnvRecord, trigger: RefreshTrigger): Promise<RefreshResult> {
    await this.#vault.ensureLoaded(env)
    const before = await this.#context.registry.resolveProvider(env, 'fyers')
    const missing = refreshMissing(before)
    if (missing.length > 0) return { ok: false, reason: `not possible: set ${missing.join(', ')}` }
    if (this.refreshTokenExpired(before)) return this.#failed(trigger, REFRESH_TOKEN_EXPIRED)
    const had = before.credentials.accessToken.current?.reveal()
    const { store, vault } = this.#vault.vaultOf(env)
    const owner = lockOwner()
    let lock: LockState = store ? await this.#lock(store, owner) : 'unavailable'
    if (store && lock === 'held') {
      // Another instance is refreshing: with a vault, take the token it stores; without one,
      // wait for the lock and refresh here.
      const theirs = vault ? await this.#waitForOther(env, had) : undefined
      if (theirs) return this.#tookOther(env, theirs, trigger)
      lock = await this.#lock(store, owner, WAIT_FOR_OTHER_MS)
      if (lock === 'held') return this.#failed(trigger, 'another instance holds the refresh lock')
    }
    try {
      // Another instance may have refreshed just before this one took the lock.
      const stored = vault ? await this.#vault.readVault(env) : undefined
      if (
        stored &&
        stored !== this.#vault.record &&
        stored.accessToken !== had &&
        !this.#expiresSoon(stored.accessToken)
      ) {
        return await this.#tookOther(env, stored, trigger)
      }
      return await this.#callRefresh(env, before, trigger)
    } finally {
      if (store && lock === 'taken') await releaseLock(store, FYERS_REFRESH_LOCK, owner)
    }
  }

  /**
   * `taken` by this owner, `held` by another (after waiting up to `waitMs`), or `unavailable`
   * when the store failed: then this instance refreshes without the lock (a second refresh is
   * better than none).
   */
  async #lock(store: SharedStore, owner: string, waitMs = 0): Promise<LockState> {
    const state = await takeLock(store, FYERS_REFRESH_LOCK, owner, {
      ttlMs: LOCK_TTL_MS,
      waitMs,
      pollMs: 200,
      now: this.#context.now,
    })
    if (state === 'unavailable') {
      this.#context.log({
        level: 'warn',
        msg: 'fyers refresh lock unavailable: the shared store failed',
      })
    }
    return state
  }

  /** Polls the vault until it holds an access token other than `had`. */
  async #waitForOther(
    env: EnvRecord,
    had: string | undefined
  ): Promise<FyersTokenRecord | undefined> {
    const deadline = this.#context.now() + WAIT_FOR_OTHER_MS
    while (this.#context.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 200))
      const { vault } = this.#vault.vaultOf(env)
      const text = await vault?.get(FYERS_VAULT_NAME).catch(() => undefined)
      const record = parseRecord(text)
      if (
        record &&
        record.accessToken !== had &&
        record.obtainedAt > (this.#vault.record?.obtainedAt ?? 0) &&
        !this.#expiresSoon(record.accessToken)
      ) {
        return record
      }
    }
    return undefined
  }

  async #tookOther(
    env: EnvRecord,
    record: FyersTokenRecord,
    trigger: RefreshTrigger
  ): Promise<RefreshResult> {
    this.#vault.apply(record, 'vault')
    this.#last = {
      at: this.#context.now(),
      outcome: 'success',
      trigger,
      reason: 'another instance',
    }
    this.#failures = 0
    const snapshot = await this.#context.registry.resolveProvider(env, 'fyers')
    this.#vault.reportRefreshExpiry(snapshot)
    return { ok: true, token: snapshot.credentials.accessToken.current, by: 'another' }
  }

  #expiresSoon(token: string): boolean {
    const exp = jwtExpiry(token)
    return exp !== undefined && exp - this.#context.now() < 60_000
  }

  async #callRefresh(
    env: EnvRecord,
    snapshot: FyersSnapshot,
    trigger: RefreshTrigger
  ): Promise<RefreshResult> {
    const { fetch, now, timeoutMs } = this.#context
    const { clientId, appSecret, refreshToken, pin } = snapshot.credentials
    const app: FyersAppCredentials = {
      baseUrl: snapshot.settings.baseUrl,
      clientId: clientId.current?.reveal() ?? '',
      appSecret: appSecret.current?.reveal() ?? '',
    }
    const refresh = refreshToken.current?.reveal() ?? ''
    let grant: FyersTokenGrant | FyersApiError
    try {
      grant = await fyersRefreshAccessToken(
        fetch,
        app,
        refresh,
        pin.current?.reveal() ?? '',
        AbortSignal.timeout(timeoutMs)
      )
    } catch (error) {
      return this.#failed(trigger, failureReason(error))
    }
    if (grant instanceof FyersApiError) return this.#failed(trigger, failureReason(grant))
    // A token that cannot be Fyers' for this app is refused: the current one stays.
    const problem = grantProblem(grant, { clientId: app.clientId, now: now() })
    if (problem) return this.#failed(trigger, `invalid_token: ${problem}`)
    const newRefresh = grant.refreshToken ?? refresh
    const previous = this.#vault.record
    const record: FyersTokenRecord = {
      accessToken: grant.accessToken,
      refreshToken: newRefresh,
      ...refreshExpiryFor(newRefresh, grant.refreshToken !== undefined, previous, now),
      obtainedAt: now(),
      by: 'refresh',
      ...replacing(snapshot, previous),
    }
    const settle = (): void => {
      recordTokenRefresh('success')
      this.#last = { at: now(), outcome: 'success', trigger }
    }
    const token = await this.obtained(env, record, 'fyers-refresh', settle, {
      msg: 'fyers access token refreshed',
      trigger,
      expiresAt: iso(jwtExpiry(grant.accessToken)),
    })
    return { ok: true, token, by: 'this' }
  }

  #failed(trigger: RefreshTrigger, reason: string): RefreshResult {
    if (trigger === 'on-demand') this.#onDemandAfter = this.#context.now() + ON_DEMAND_BACKOFF_MS
    recordTokenRefresh('failure')
    this.#last = { at: this.#context.now(), outcome: 'failure', trigger, reason }
    this.#failures += 1
    this.#context.log({
      level: 'warn',
      msg: 'fyers access token refresh failed',
      provider: 'fyers',
      trigger,
      reason,
    })
    return { ok: false, reason }
  }

  /**
   * After Fyers rejected every token in `rejected`: the access token to try instead — one that
   * replaced them in the meantime (here or, through the vault, in another instance), else a
   * refreshed one — or `undefined` when there is none (refresh not possible, failed, or failed
   * within the last minute).
   */
  async afterRejection(env: EnvRecord, rejected: readonly Secret[]): Promise<Secret | undefined> {
    await this.#vault.ensureLoaded(env)
    const tried = new Set(rejected.map((secret) => secret.reveal()))
    const untried = (token: Secret | undefined): Secret | undefined =>
      token && !tried.has(token.reveal()) ? token : undefined
    const fresh = await this.#vault.currentToken(env)
    if (untried(fresh)) return fresh
    if (this.#flight) {
      // Another request's refresh: wait for it a bound, then look at the registry again.
      const joined = await within(this.#flight, this.#context.timeoutMs + 1_000)
      if (joined?.ok) return untried(joined.token)
      return joined ? undefined : untried(await this.#vault.currentToken(env))
    }
    if (this.#context.now() < this.#onDemandAfter) return undefined
    const result = await this.refresh(env, 'on-demand')
    return result.ok ? untried(result.token) : undefined
  }

  /** Refreshes when the access token is missing, expired or expires within the hour (cron). */
  async refreshIfDue(env: EnvRecord, trigger: RefreshTrigger): Promise<RefreshResult | undefined> {
    await this.#vault.ensureLoaded(env)
    const snapshot = await this.#context.registry.resolveProvider(env, 'fyers')
    if (refreshMissing(snapshot).length > 0) return undefined
    const token = snapshot.credentials.accessToken.current?.reveal()
    const exp = token === undefined ? undefined : jwtExpiry(token)
    if (token !== undefined && (exp === undefined || exp - this.#context.now() > 3600_000)) {
      return undefined
    }
    return this.refresh(env, trigger)
  }
}

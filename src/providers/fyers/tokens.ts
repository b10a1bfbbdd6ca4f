/**
 * The Fyers token lifecycle: sign-in (a signed, short-lived, single-use `state`), refresh of the
 * access token from the refresh token and the PIN (single-flight in an instance, one instance at
 * a time through a lock in the shared store), and the encrypted vault that keeps both tokens
 * across restarts and shares them between instances. The wire calls are in `fyers.ts`; this
 * module decides when to make them and what to do with their answers.
 */

import type { Context, MiddlewareHandler } from 'hono'
import { within } from '../../bounded-wait.ts'
import { fyersDefinition, jwtExpiry } from '../../catalog/fyers.ts'
import { sha256Hex } from '../../digest.ts'
import { decodeBase64Url, encodeBase64Url, toHex } from '../../encoding.ts'
import type { EnvReader, EnvRecord } from '../../env.ts'
import { KeylineError } from '../../errors/keyline-error.ts'
import { unrefTimer } from '../../runtime.ts'
import type { ProviderSnapshot, SecretRegistry } from '../../secrets/registry.ts'
import type { Secret } from '../../secrets/secret.ts'
import type { SharedStore } from '../../store/shared-store.ts'
import { recordTokenRefresh, setRefreshTokenExpiry } from '../../telemetry/record.ts'
import {
  FyersApiError,
  type FyersAppCredentials,
  type FyersTokenGrant,
  fyersExchangeAuthCode,
  fyersRefreshAccessToken,
  fyersSignInUrl,
} from './client.ts'

/** Where the tokens are kept encrypted: the part of the token vault this module uses. */
export interface TokenVaultLike {
  get(name: string): Promise<string | undefined>
  set(name: string, value: string): Promise<void>
}

/** The vault of an environment, or why there is none (tokens are then kept in memory only). */
export interface VaultChoice {
  readonly vault?: TokenVaultLike
  readonly reason?: string
}

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

/** The Fyers token part of the admin status: expiries and outcomes, never a token. */
export interface FyersTokenStatus {
  readonly accessToken: { readonly source: string | null; readonly expiresAt: string | null }
  readonly refreshToken: {
    readonly source: string | null
    readonly expiresAt: string | null
    readonly daysLeft: number | null
  }
  /** Whether keyline can refresh, and the variables missing when it cannot. */
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
  readonly signIn: { readonly possible: boolean; readonly missing: readonly string[] }
  /** Whether tokens keyline obtains survive a restart, and where they are kept. */
  readonly vault: {
    readonly persisted: boolean
    readonly store: string | null
    readonly reason: string | null
  }
}

/** What a refresh did. */
export type RefreshResult =
  | { readonly ok: true; readonly token: Secret | undefined; readonly by: 'this' | 'another' }
  | { readonly ok: false; readonly reason: string }

/** Options of {@link FyersTokens}. */
export interface FyersTokensOptions {
  registry: SecretRegistry
  /**
   * The store instances share (vault, refresh lock, used sign-in states) for an environment.
   * @default none: tokens, lock and states live in this instance only
   */
  store?: (env: EnvRecord) => SharedStore | undefined
  /** The vault in a store, for an environment. @default none: tokens are not persisted */
  vault?: (env: EnvRecord, store: SharedStore) => VaultChoice
  /** Called after this instance obtained new tokens, e.g. to publish a reload epoch. */
  onChange?: (env: EnvRecord) => Promise<void> | void
  /**
   * Called once per refresh this instance ran (callers that joined it are not counted), with
   * its outcome, e.g. for the rotation events log; awaited, and never allowed to throw.
   * @default none
   */
  onRefresh?: (env: EnvRecord, trigger: RefreshTrigger, result: RefreshResult) => Promise<void>
  /** The fetch of sign-in and refresh calls. @default globalThis.fetch */
  fetch?: typeof fetch
  /** Where refresh and sign-in outcomes are logged (never a token). @default console JSON lines */
  log?: (line: Record<string, unknown>) => void
  /** How long a refresh call may take, in ms. @default 10000 */
  timeoutMs?: number
  /** Clock, for tests. @default Date.now */
  now?: () => number
}

/** The vault record's name. */
export const FYERS_VAULT_NAME = 'fyers.tokens'
/** The shared lock that lets one instance refresh at a time. */
export const FYERS_REFRESH_LOCK = 'keyline:lock:fyers-refresh'
const STATE_USED_PREFIX = 'keyline:fyers:sign-in-used:'
/** How long a sign-in state is accepted. */
export const SIGN_IN_STATE_TTL_MS = 10 * 60 * 1000
/** Fyers refresh tokens last about 15 days; used when one does not say. */
const REFRESH_TOKEN_LIFETIME_MS = 15 * 24 * 3600 * 1000
const LOCK_TTL_MS = 30_000
const WAIT_FOR_OTHER_MS = 15_000
/** After a failed on-demand refresh, rejections do not start another for this long. */
const ON_DEMAND_BACKOFF_MS = 60_000
/** The timer refreshes this long before expiry at most (a tenth of what is left, for short tokens). */
const TIMER_LEAD_MS = 5 * 60 * 1000
const DAY_MS = 24 * 3600 * 1000
const MIN_TIMER_GAP_MS = 60_000

const V = fyersDefinition.credentials
const SETTINGS = fyersDefinition.settings
const REFRESH_NEEDS = [
  ['clientId', V.clientId.env[0]],
  ['appSecret', V.appSecret.env[0]],
  ['refreshToken', V.refreshToken.env[0]],
  ['pin', V.pin.env[0]],
] as const
const SIGN_IN_NEEDS = [
  ['clientId', V.clientId.env[0]],
  ['appSecret', V.appSecret.env[0]],
] as const

type Snapshot = ProviderSnapshot<'fyers'>

const iso = (ms: number | undefined): string | null =>
  ms === undefined ? null : new Date(ms).toISOString()

const randomId = (): string => toHex(crypto.getRandomValues(new Uint8Array(16)))

const parseRecord = (text: string | undefined): FyersTokenRecord | undefined => {
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

/** The short reason of a failed token call, for the status, the log and the metric's log line. */
const failureReason = (error: unknown): string => {
  if (error instanceof FyersApiError) {
    return error.code === undefined ? `http_${error.httpStatus}` : `fyers_code_${error.code}`
  }
  if (error instanceof Error && (error.name === 'TimeoutError' || error.name === 'AbortError')) {
    return 'timeout'
  }
  return 'network'
}

/** URL-safe base64 without padding: what a state in a URL carries. */
const unpadded = (bytes: Uint8Array): string => encodeBase64Url(bytes).replace(/=+$/, '')

const digestOf = (value: string | undefined): string | undefined =>
  value === undefined ? undefined : sha256Hex(value)

const missingOf = (
  snapshot: Snapshot,
  needs: readonly (readonly [keyof Snapshot['credentials'], string])[]
): string[] => needs.filter(([name]) => !snapshot.credentials[name].current).map(([, v]) => v)

/**
 * The Fyers token lifecycle of one app (one per registry): loads the vault's tokens into the
 * registry, refreshes the access token (on a timer, from cron, on demand after a rejection, or
 * when an admin asks), and signs in.
 */
export class FyersTokens {
  readonly #registry: SecretRegistry
  readonly #store: (env: EnvRecord) => SharedStore | undefined
  readonly #vault: (env: EnvRecord, store: SharedStore) => VaultChoice
  readonly #onChange: ((env: EnvRecord) => Promise<void> | void) | undefined
  readonly #onRefresh: FyersTokensOptions['onRefresh']
  readonly #fetch: typeof fetch
  readonly #log: (line: Record<string, unknown>) => void
  readonly #timeoutMs: number
  readonly #now: () => number
  /** Stores of environments without a shared one: this instance's own. */
  readonly #local = new Map<string, { value: string; until: number }>()
  #loaded: Promise<void> | undefined
  #ready = false
  #flight: Promise<RefreshResult> | undefined
  #last: RefreshRecord | undefined
  #record: FyersTokenRecord | undefined
  #onDemandAfter = 0
  #failures = 0
  #timer: ReturnType<typeof setTimeout> | undefined
  #nextAt: number | undefined
  #stateKey: { secret: string; key: Promise<CryptoKey> } | undefined

  constructor(options: FyersTokensOptions) {
    if (!options?.registry) throw new TypeError('FyersTokens: registry is required')
    const timeoutMs = options.timeoutMs ?? 10_000
    if (!Number.isFinite(timeoutMs) || timeoutMs <= 0) {
      throw new TypeError('FyersTokens: timeoutMs must be a positive number of milliseconds')
    }
    this.#registry = options.registry
    this.#store = options.store ?? (() => undefined)
    this.#vault = options.vault ?? (() => ({ reason: 'no token vault is configured' }))
    this.#onChange = options.onChange
    this.#onRefresh = options.onRefresh
    this.#fetch = options.fetch ?? ((input, init) => fetch(input, init))
    this.#log = options.log ?? ((line) => console.log(JSON.stringify(line)))
    this.#timeoutMs = timeoutMs
    this.#now = options.now ?? Date.now
  }

  // ── The vault ──────────────────────────────────────────────────────────────────────────────

  #vaultOf(env: EnvRecord): { store?: SharedStore } & VaultChoice {
    const store = this.#store(env)
    if (!store) return { reason: 'no shared store is configured: tokens are kept in memory only' }
    return { store, ...this.#vault(env, store) }
  }

  /** Reads the vault's tokens into the registry, once per instance (see {@link reload}). */
  ensureLoaded(env: EnvRecord): Promise<void> {
    if (!this.#loaded) {
      const loading = this.#load(env).then(
        () => {
          this.#ready = true
        },
        () => {
          // Try again on the next request rather than failing every one after it.
          if (this.#loaded === loading) this.#loaded = undefined
          this.#log({ level: 'warn', msg: 'fyers tokens not loaded from the vault' })
        }
      )
      this.#loaded = loading
    }
    // A promise another request may own (Workers cancel I/O with its request): wait a bound.
    return within(this.#loaded, this.#timeoutMs).then(() => undefined)
  }

  /** Whether the vault has been read in this instance. */
  get loaded(): boolean {
    return this.#ready
  }

  /** Middleware that reads the vault before the first request of an instance goes on. */
  loader(readEnv: EnvReader): MiddlewareHandler {
    const load = (c: Context): Promise<void> | undefined =>
      this.#ready ? undefined : this.ensureLoaded(readEnv(c))
    return async function fyersTokensLoader(c, next) {
      await load(c)
      await next()
    }
  }

  /** Reads the vault again, e.g. after another instance published a reload epoch. */
  reload(env: EnvRecord): Promise<void> {
    this.#loaded = this.#load(env)
    return this.#loaded
  }

  async #load(env: EnvRecord): Promise<void> {
    const record = await this.#readVault(env)
    if (record && record !== this.#record) {
      const boundToken = await this.#registry.bound(env, 'fyers', 'accessToken')
      const boundExp = boundToken === undefined ? undefined : jwtExpiry(boundToken)
      const recordExp = jwtExpiry(record.accessToken)
      // The binding changed since the record was made (a new secret, a redeploy): the record
      // replaces it only when it lasts longer.
      const sameBinding = record.replaces === undefined || record.replaces === digestOf(boundToken)
      const outlasts =
        boundToken === undefined ||
        (recordExp ?? Number.NEGATIVE_INFINITY) > (boundExp ?? Number.NEGATIVE_INFINITY)
      if (sameBinding || outlasts) this.#apply(record, 'vault')
    }
    this.#reportRefreshExpiry(await this.#registry.resolveProvider(env, 'fyers'))
  }

  async #readVault(env: EnvRecord): Promise<FyersTokenRecord | undefined> {
    const { vault } = this.#vaultOf(env)
    if (!vault) return this.#record
    try {
      return parseRecord(await vault.get(FYERS_VAULT_NAME)) ?? this.#record
    } catch {
      this.#log({ level: 'warn', msg: 'fyers token vault unreadable', provider: 'fyers' })
      return this.#record
    }
  }

  /** Makes a record's tokens current in the registry, unless this instance has a newer one. */
  #apply(record: FyersTokenRecord, source: string): void {
    if (this.#record && this.#record !== record && record.obtainedAt < this.#record.obtainedAt) {
      return
    }
    this.#record = record
    this.#registry.supply('fyers', 'accessToken', record.accessToken, source)
    if (record.refreshToken) {
      this.#registry.supply('fyers', 'refreshToken', record.refreshToken, source)
    }
  }

  async #keep(env: EnvRecord, record: FyersTokenRecord, source: string): Promise<void> {
    this.#apply(record, source)
    const { vault } = this.#vaultOf(env)
    if (vault) {
      try {
        await vault.set(FYERS_VAULT_NAME, JSON.stringify(record))
      } catch {
        this.#log({ level: 'warn', msg: 'fyers tokens not stored: the vault is unwritable' })
      }
    }
    this.#reportRefreshExpiry(await this.#registry.resolveProvider(env, 'fyers'))
    try {
      await this.#onChange?.(env)
    } catch {
      this.#log({ level: 'warn', msg: 'fyers token change not published to other instances' })
    }
  }

  #refreshTokenExpiry(snapshot: Snapshot): number | undefined {
    const token = snapshot.credentials.refreshToken.current?.reveal()
    if (!token) return undefined
    const exp = jwtExpiry(token)
    if (exp !== undefined) return exp
    return this.#record?.refreshToken === token ? this.#record.refreshTokenExpiresAt : undefined
  }

  #reportRefreshExpiry(snapshot: Snapshot): void {
    const exp = this.#refreshTokenExpiry(snapshot)
    setRefreshTokenExpiry(exp === undefined ? undefined : new Date(exp))
  }

  // ── Refresh ────────────────────────────────────────────────────────────────────────────────

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
    await this.ensureLoaded(env)
    const before = await this.#registry.resolveProvider(env, 'fyers')
    const missing = missingOf(before, REFRESH_NEEDS)
    if (missing.length > 0) return { ok: false, reason: `not possible: set ${missing.join(', ')}` }
    const had = before.credentials.accessToken.current?.reveal()
    const { store, vault } = this.#vaultOf(env)
    const owner = randomId()
    let lock = store ? await this.#tryLock(store, owner) : 'unavailable'
    if (store && lock === 'held') {
      // Another instance is refreshing: with a vault, take the token it stores; without one,
      // wait for the lock and refresh here.
      const theirs = vault ? await this.#waitForOther(env, had) : undefined
      if (theirs) return this.#tookOther(env, theirs, trigger)
      lock = await this.#waitForLock(store, owner)
      if (lock === 'held') return this.#failed(trigger, 'another instance holds the refresh lock')
    }
    try {
      // Another instance may have refreshed just before this one took the lock.
      const stored = vault ? await this.#readVault(env) : undefined
      if (
        stored &&
        stored !== this.#record &&
        stored.accessToken !== had &&
        !this.#expiresSoon(stored.accessToken)
      ) {
        return await this.#tookOther(env, stored, trigger)
      }
      return await this.#callRefresh(env, before, trigger)
    } finally {
      if (store && lock === 'taken') {
        await store.unlock(FYERS_REFRESH_LOCK, owner).catch(() => undefined)
      }
    }
  }

  /**
   * `taken` by this owner, `held` by another, or `unavailable` when the store failed: then this
   * instance refreshes without the lock (a second refresh is better than none).
   */
  async #tryLock(store: SharedStore, owner: string): Promise<'taken' | 'held' | 'unavailable'> {
    try {
      return (await store.lock(FYERS_REFRESH_LOCK, owner, LOCK_TTL_MS)) ? 'taken' : 'held'
    } catch {
      this.#log({ level: 'warn', msg: 'fyers refresh lock unavailable: the shared store failed' })
      return 'unavailable'
    }
  }

  async #waitForLock(store: SharedStore, owner: string): Promise<'taken' | 'held' | 'unavailable'> {
    const deadline = this.#now() + WAIT_FOR_OTHER_MS
    while (this.#now() < deadline) {
      const lock = await this.#tryLock(store, owner)
      if (lock !== 'held') return lock
      await new Promise((resolve) => setTimeout(resolve, 200))
    }
    return 'held'
  }

  /** Polls the vault until it holds an access token other than `had`. */
  async #waitForOther(
    env: EnvRecord,
    had: string | undefined
  ): Promise<FyersTokenRecord | undefined> {
    const deadline = this.#now() + WAIT_FOR_OTHER_MS
    while (this.#now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 200))
      const { vault } = this.#vaultOf(env)
      const text = await vault?.get(FYERS_VAULT_NAME).catch(() => undefined)
      const record = parseRecord(text)
      if (
        record &&
        record.accessToken !== had &&
        record.obtainedAt > (this.#record?.obtainedAt ?? 0) &&
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
    this.#apply(record, 'vault')
    this.#last = { at: this.#now(), outcome: 'success', trigger, reason: 'another instance' }
    this.#failures = 0
    const snapshot = await this.#registry.resolveProvider(env, 'fyers')
    this.#reportRefreshExpiry(snapshot)
    return { ok: true, token: snapshot.credentials.accessToken.current, by: 'another' }
  }

  /** The access token the registry hands out now. */
  async #currentToken(env: EnvRecord): Promise<Secret | undefined> {
    return (await this.#registry.resolveProvider(env, 'fyers')).credentials.accessToken.current
  }

  #expiresSoon(token: string): boolean {
    const exp = jwtExpiry(token)
    return exp !== undefined && exp - this.#now() < 60_000
  }

  async #callRefresh(
    env: EnvRecord,
    snapshot: Snapshot,
    trigger: RefreshTrigger
  ): Promise<RefreshResult> {
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
        this.#fetch,
        app,
        refresh,
        pin.current?.reveal() ?? '',
        AbortSignal.timeout(this.#timeoutMs)
      )
    } catch (error) {
      return this.#failed(trigger, failureReason(error))
    }
    if (grant instanceof FyersApiError) return this.#failed(trigger, failureReason(grant))
    const newRefresh = grant.refreshToken ?? refresh
    const record: FyersTokenRecord = {
      accessToken: grant.accessToken,
      refreshToken: newRefresh,
      ...this.#refreshExpiryFor(newRefresh, grant.refreshToken !== undefined),
      obtainedAt: this.#now(),
      by: 'refresh',
      ...this.#replacing(snapshot),
    }
    await this.#keep(env, record, 'fyers-refresh')
    recordTokenRefresh('success')
    this.#last = { at: this.#now(), outcome: 'success', trigger }
    this.#failures = 0
    const token = await this.#currentToken(env)
    this.#log({
      level: 'info',
      msg: 'fyers access token refreshed',
      provider: 'fyers',
      trigger,
      token: token?.fingerprint ?? null,
      expiresAt: iso(jwtExpiry(grant.accessToken)),
    })
    return { ok: true, token, by: 'this' }
  }

  /** The bound access token a new record replaces (its digest), read from `snapshot`'s source. */
  #replacing(snapshot: Snapshot): { replaces?: string } {
    const current = snapshot.credentials.accessToken.current
    const bound = current?.source.startsWith('env:') || current?.source.startsWith('file:')
    const replaces = bound ? digestOf(current?.reveal()) : this.#record?.replaces
    return replaces === undefined ? {} : { replaces }
  }

  /** The expiry to keep beside a refresh token that does not carry one. */
  #refreshExpiryFor(token: string, fresh: boolean): { refreshTokenExpiresAt?: number } {
    if (jwtExpiry(token) !== undefined) return {}
    if (fresh) return { refreshTokenExpiresAt: this.#now() + REFRESH_TOKEN_LIFETIME_MS }
    const kept =
      this.#record?.refreshToken === token ? this.#record.refreshTokenExpiresAt : undefined
    return kept === undefined ? {} : { refreshTokenExpiresAt: kept }
  }

  #failed(trigger: RefreshTrigger, reason: string): RefreshResult {
    if (trigger === 'on-demand') this.#onDemandAfter = this.#now() + ON_DEMAND_BACKOFF_MS
    recordTokenRefresh('failure')
    this.#last = { at: this.#now(), outcome: 'failure', trigger, reason }
    this.#failures += 1
    this.#log({
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
    await this.ensureLoaded(env)
    const tried = new Set(rejected.map((secret) => secret.reveal()))
    const untried = (token: Secret | undefined): Secret | undefined =>
      token && !tried.has(token.reveal()) ? token : undefined
    const fresh = await this.#currentToken(env)
    if (untried(fresh)) return fresh
    if (this.#flight) {
      // Another request's refresh: wait for it a bound, then look at the registry again.
      const joined = await within(this.#flight, this.#timeoutMs + 1_000)
      if (joined?.ok) return untried(joined.token)
      return joined ? undefined : untried(await this.#currentToken(env))
    }
    if (this.#now() < this.#onDemandAfter) return undefined
    const result = await this.refresh(env, 'on-demand')
    return result.ok ? untried(result.token) : undefined
  }

  /** Refreshes when the access token is missing, expired or expires within the hour (cron). */
  async refreshIfDue(env: EnvRecord, trigger: RefreshTrigger): Promise<RefreshResult | undefined> {
    await this.ensureLoaded(env)
    const snapshot = await this.#registry.resolveProvider(env, 'fyers')
    if (missingOf(snapshot, REFRESH_NEEDS).length > 0) return undefined
    const token = snapshot.credentials.accessToken.current?.reveal()
    const exp = token === undefined ? undefined : jwtExpiry(token)
    if (token !== undefined && (exp === undefined || exp - this.#now() > 3600_000)) return undefined
    return this.refresh(env, trigger)
  }

  /**
   * Keeps the access token fresh from an in-process timer (Node, Deno): it fires shortly before
   * the token's `exp` (five minutes, or a tenth of what is left), refreshes, and sets itself
   * again; after a failure it retries with backoff. Returns a function that stops it.
   */
  startTimer(readEnv: () => EnvRecord): () => void {
    let stopped = false
    const plan = async (): Promise<void> => {
      if (stopped) return
      const env = readEnv()
      await this.ensureLoaded(env)
      const snapshot = await this.#registry.resolveProvider(env, 'fyers')
      const possible = missingOf(snapshot, REFRESH_NEEDS).length === 0
      const token = snapshot.credentials.accessToken.current?.reveal()
      const exp = token === undefined ? undefined : jwtExpiry(token)
      const now = this.#now()
      let delay: number
      if (!possible) delay = 3600_000
      else if (this.#failures > 0) delay = Math.min(30 * 60_000, 30_000 * 2 ** (this.#failures - 1))
      else if (token === undefined) delay = 0
      else if (exp === undefined) delay = 3600_000
      else delay = Math.max(0, exp - now - Math.min(TIMER_LEAD_MS, (exp - now) / 10))
      // Never back to back: a refresh that brought no later `exp` (a clock ahead) waits a minute.
      const sinceLast = this.#last ? now - this.#last.at : Number.POSITIVE_INFINITY
      if (sinceLast < MIN_TIMER_GAP_MS) delay = Math.max(delay, MIN_TIMER_GAP_MS - sinceLast)
      delay = Math.min(delay, DAY_MS)
      const due = possible && (token === undefined || exp !== undefined || this.#failures > 0)
      this.#nextAt = due ? now + delay : undefined
      if (this.#timer !== undefined) clearTimeout(this.#timer)
      this.#timer = setTimeout(() => {
        const run = due ? this.refresh(readEnv(), 'timer').then(() => undefined) : Promise.resolve()
        run.then(plan, plan)
      }, delay)
      unrefTimer(this.#timer)
    }
    plan().catch(() => {
      this.#log({ level: 'warn', msg: 'fyers refresh timer could not start' })
    })
    return () => {
      stopped = true
      if (this.#timer !== undefined) clearTimeout(this.#timer)
      this.#nextAt = undefined
    }
  }

  // ── Sign-in ────────────────────────────────────────────────────────────────────────────────

  #signInMissing(snapshot: Snapshot): string[] {
    const missing = missingOf(snapshot, SIGN_IN_NEEDS)
    if (!snapshot.settings.redirectUri) missing.push(SETTINGS.redirectUri.env)
    return missing
  }

  async #hmacKey(appSecret: string): Promise<CryptoKey> {
    if (this.#stateKey?.secret !== appSecret) {
      const material = new TextEncoder().encode(`keyline fyers sign-in state\u0000${appSecret}`)
      const key = crypto.subtle
        .digest('SHA-256', material)
        .then((raw) =>
          crypto.subtle.importKey('raw', raw, { name: 'HMAC', hash: 'SHA-256' }, false, [
            'sign',
            'verify',
          ])
        )
      this.#stateKey = { secret: appSecret, key }
    }
    return this.#stateKey.key
  }

  #stateMessage(snapshot: Snapshot, nonce: string, exp: number): Uint8Array<ArrayBuffer> {
    const clientId = snapshot.credentials.clientId.current?.reveal() ?? ''
    return new TextEncoder().encode(
      `fyers-sign-in|${clientId}|${snapshot.settings.redirectUri}|${nonce}|${exp}`
    )
  }

  /**
   * Starts a sign-in: the Fyers URL to open and the `state` it carries, signed with a key
   * derived from the app secret (so any instance can verify it without storing it), valid for
   * ten minutes and accepted once.
   */
  async startSignIn(env: EnvRecord): Promise<{ url: string; state: string; expiresAt: string }> {
    const snapshot = await this.#registry.resolveProvider(env, 'fyers')
    const missing = this.#signInMissing(snapshot)
    if (missing.length > 0) {
      throw new KeylineError(
        409,
        'fyers_sign_in_unavailable',
        `Fyers sign-in needs ${missing.join(', ')}: set ${missing.length > 1 ? 'them' : 'it'} and reload`,
        { details: { missing } }
      )
    }
    const nonce = unpadded(crypto.getRandomValues(new Uint8Array(16)))
    const exp = Math.floor((this.#now() + SIGN_IN_STATE_TTL_MS) / 1000)
    const key = await this.#hmacKey(snapshot.credentials.appSecret.current?.reveal() ?? '')
    const mac = new Uint8Array(
      await crypto.subtle.sign('HMAC', key, this.#stateMessage(snapshot, nonce, exp))
    )
    const state = `${nonce}.${exp}.${unpadded(mac)}`
    const url = fyersSignInUrl(snapshot.settings.baseUrl, {
      clientId: snapshot.credentials.clientId.current?.reveal() ?? '',
      redirectUri: snapshot.settings.redirectUri,
      state,
    })
    return { url, state, expiresAt: new Date(exp * 1000).toISOString() }
  }

  /** Verifies a state: signed by this deployment, not expired, and not used before. */
  async #checkState(env: EnvRecord, snapshot: Snapshot, state: string): Promise<void> {
    const refuse = (why: string): never => {
      throw new KeylineError(400, 'invalid_state', `The sign-in state is ${why}: start again`)
    }
    const [nonce = '', expText = '', macText = '', ...rest] = state.split('.')
    const exp = Number(expText)
    const mac = decodeBase64Url(macText)
    if (
      rest.length > 0 ||
      !/^[A-Za-z0-9_-]{22}$/.test(nonce) ||
      !/^\d{1,12}$/.test(expText) ||
      !mac
    ) {
      return refuse('malformed')
    }
    const key = await this.#hmacKey(snapshot.credentials.appSecret.current?.reveal() ?? '')
    // crypto.subtle.verify compares in constant time.
    const signed = await crypto.subtle.verify(
      'HMAC',
      key,
      mac,
      this.#stateMessage(snapshot, nonce, exp)
    )
    if (!signed) return refuse('not one keyline issued')
    const remaining = exp * 1000 - this.#now()
    if (remaining <= 0) return refuse('expired')
    if (!(await this.#useOnce(env, `${STATE_USED_PREFIX}${nonce}`, remaining))) {
      return refuse('already used')
    }
  }

  /** `true` the first time `key` is used while it is valid (shared store, else this instance). */
  async #useOnce(env: EnvRecord, key: string, ttlMs: number): Promise<boolean> {
    const store = this.#store(env)
    // A random owner: a lock answers `true` again to the owner that holds it.
    if (store) return store.lock(key, randomId(), ttlMs)
    const now = this.#now()
    for (const [k, v] of this.#local) if (v.until <= now) this.#local.delete(k)
    if (this.#local.has(key)) return false
    this.#local.set(key, { value: 'used', until: now + ttlMs })
    return true
  }

  /**
   * Completes a sign-in from the redirect: checks the state, exchanges the auth code for both
   * tokens, keeps them (registry, vault) and says when the access token expires.
   */
  async completeSignIn(
    env: EnvRecord,
    authCode: string,
    state: string
  ): Promise<{ token: string; expiresAt: string | null }> {
    const snapshot = await this.#registry.resolveProvider(env, 'fyers')
    const missing = this.#signInMissing(snapshot)
    if (missing.length > 0) {
      throw new KeylineError(
        409,
        'fyers_sign_in_unavailable',
        `Fyers sign-in needs ${missing.join(', ')}`,
        {
          details: { missing },
        }
      )
    }
    await this.#checkState(env, snapshot, state)
    const app: FyersAppCredentials = {
      baseUrl: snapshot.settings.baseUrl,
      clientId: snapshot.credentials.clientId.current?.reveal() ?? '',
      appSecret: snapshot.credentials.appSecret.current?.reveal() ?? '',
    }
    let grant: FyersTokenGrant | FyersApiError
    try {
      grant = await fyersExchangeAuthCode(
        this.#fetch,
        app,
        authCode,
        AbortSignal.timeout(this.#timeoutMs)
      )
    } catch (error) {
      throw new KeylineError(
        502,
        'upstream_unavailable',
        'Fyers could not be reached to complete the sign-in',
        {
          details: { provider: 'fyers', reason: failureReason(error) },
        }
      )
    }
    if (grant instanceof FyersApiError) {
      throw new KeylineError(
        502,
        'upstream_auth_failed',
        'Fyers refused the sign-in code: start again',
        {
          details: { provider: 'fyers', reason: failureReason(grant) },
        }
      )
    }
    const record: FyersTokenRecord = {
      accessToken: grant.accessToken,
      ...(grant.refreshToken
        ? {
            refreshToken: grant.refreshToken,
            ...this.#refreshExpiryFor(grant.refreshToken, true),
          }
        : {}),
      obtainedAt: this.#now(),
      by: 'sign-in',
      ...this.#replacing(snapshot),
    }
    await this.#keep(env, record, 'fyers-sign-in')
    this.#failures = 0
    this.#onDemandAfter = 0
    const token = await this.#currentToken(env)
    this.#log({
      level: 'info',
      msg: 'fyers sign-in completed',
      provider: 'fyers',
      token: token?.fingerprint ?? null,
    })
    return { token: token?.fingerprint ?? '', expiresAt: iso(jwtExpiry(grant.accessToken)) }
  }

  // ── Status ─────────────────────────────────────────────────────────────────────────────────

  /** The token part of the status for a snapshot: expiries, last refresh, vault; no token. */
  status(env: EnvRecord, snapshot: Snapshot): FyersTokenStatus {
    const access = snapshot.credentials.accessToken.current
    const refresh = snapshot.credentials.refreshToken.current
    const refreshExp = this.#refreshTokenExpiry(snapshot)
    const missing = missingOf(snapshot, REFRESH_NEEDS)
    const signInMissing = this.#signInMissing(snapshot)
    const { store, vault, reason } = this.#vaultOf(env)
    const last = this.#last
    return {
      accessToken: {
        source: access?.source ?? null,
        expiresAt: iso(access ? jwtExpiry(access.reveal()) : undefined),
      },
      refreshToken: {
        source: refresh?.source ?? null,
        expiresAt: iso(refreshExp),
        daysLeft:
          refreshExp === undefined
            ? null
            : Math.max(0, Math.floor(((refreshExp - this.#now()) / DAY_MS) * 10) / 10),
      },
      refresh: {
        possible: missing.length === 0,
        missing,
        last: last
          ? {
              at: new Date(last.at).toISOString(),
              outcome: last.outcome,
              trigger: last.trigger,
              reason: last.reason ?? null,
            }
          : null,
        nextAt: iso(this.#nextAt),
      },
      signIn: { possible: signInMissing.length === 0, missing: signInMissing },
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
}

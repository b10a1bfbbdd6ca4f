/**
 * The Fyers token lifecycle, as one facade: {@link FyersTokens} composes the token vault
 * (`token-vault.ts`, its record in `token-record.ts`), the refresh (`token-refresh.ts`), the
 * signed sign-in (`sign-in.ts`) and the status (`token-status.ts`). The wire calls are in
 * `client.ts`; these modules decide when to make them and what to do with their answers.
 */

import type { MiddlewareHandler } from 'hono'
import type { EnvReader, EnvRecord } from '../../env.ts'
import type { ProviderSnapshot, SecretRegistry } from '../../secrets/registry.ts'
import type { Secret } from '../../secrets/secret.ts'
import type { SharedStore } from '../../store/shared-store.ts'
import { FyersSignIn } from './sign-in.ts'
import { FyersTokenRefresh, type RefreshResult, type RefreshTrigger } from './token-refresh.ts'
import {
  type FyersTokenStatus,
  type FyersTokenStatusSources,
  fyersTokenStatus,
} from './token-status.ts'
import type { RefreshTimerParts, StartRefreshTimer } from './token-timer.ts'
import { type FyersTokenContext, FyersTokenVault, type VaultChoice } from './token-vault.ts'

export { SIGN_IN_STATE_TTL_MS } from './sign-in.ts'
export type { FyersTokenRecord } from './token-record.ts'
export {
  FYERS_REFRESH_LOCK,
  type RefreshRecord,
  type RefreshResult,
  type RefreshTrigger,
} from './token-refresh.ts'
export type { FyersTokenStatus } from './token-status.ts'
export { FYERS_VAULT_NAME, type TokenVaultLike, type VaultChoice } from './token-vault.ts'

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

/**
 * The Fyers token lifecycle of one app (one per registry): loads the vault's tokens into the
 * registry, refreshes the access token (on a timer, from cron, on demand after a rejection, or
 * when an admin asks), and signs in.
 */
export class FyersTokens {
  readonly #vault: FyersTokenVault
  readonly #refresh: FyersTokenRefresh
  readonly #signIn: FyersSignIn
  readonly #status: FyersTokenStatusSources
  readonly #timerParts: RefreshTimerParts

  constructor(options: FyersTokensOptions) {
    if (!options?.registry) throw new TypeError('FyersTokens: registry is required')
    const timeoutMs = options.timeoutMs ?? 10_000
    if (!Number.isFinite(timeoutMs) || timeoutMs <= 0) {
      throw new TypeError('FyersTokens: timeoutMs must be a positive number of milliseconds')
    }
    const context: FyersTokenContext = {
      registry: options.registry,
      store: options.store ?? (() => undefined),
      fetch: options.fetch ?? ((input, init) => fetch(input, init)),
      log: options.log ?? ((line) => console.log(JSON.stringify(line))),
      timeoutMs,
      now: options.now ?? Date.now,
    }
    this.#vault = new FyersTokenVault(context, {
      vault: options.vault ?? (() => ({ reason: 'no token vault is configured' })),
      onChange: options.onChange,
    })
    this.#refresh = new FyersTokenRefresh(context, this.#vault, options.onRefresh)
    this.#signIn = new FyersSignIn(context, this.#vault, this.#refresh)
    this.#status = { vault: this.#vault, refresh: this.#refresh, now: context.now }
    this.#timerParts = { context, vault: this.#vault, refresh: this.#refresh }
  }

  // ── The vault ──────────────────────────────────────────────────────────────────────────────

  /** Reads the vault's tokens into the registry, once per instance (see {@link reload}). */
  ensureLoaded(env: EnvRecord): Promise<void> {
    return this.#vault.ensureLoaded(env)
  }

  /** Whether the vault has been read in this instance. */
  get loaded(): boolean {
    return this.#vault.loaded
  }

  /** Middleware that reads the vault before the first request of an instance goes on. */
  loader(readEnv: EnvReader): MiddlewareHandler {
    return this.#vault.loader(readEnv)
  }

  /**
   * Reads the vault again, e.g. after another instance published a reload epoch. A record it
   * makes current with a token this instance did not hold was a refresh that succeeded
   * elsewhere: the failures before it count no more. The same token read afresh changes nothing.
   */
  async reload(env: EnvRecord): Promise<void> {
    const before = this.#vault.record?.accessToken
    await this.#vault.reload(env)
    const after = this.#vault.record?.accessToken
    if (after !== undefined && after !== before) this.#refresh.tokenObtainedElsewhere()
  }

  // ── Refresh ────────────────────────────────────────────────────────────────────────────────

  /**
   * Refreshes the access token now: one refresh at a time in this instance (callers during one
   * share it) and, with a shared store, in the deployment (an instance that finds the lock taken
   * waits for the token the other one stores). Never throws; the result says what happened.
   */
  refresh(env: EnvRecord, trigger: RefreshTrigger): Promise<RefreshResult> {
    return this.#refresh.refresh(env, trigger)
  }

  /**
   * After Fyers rejected every token in `rejected`: the access token to try instead — one that
   * replaced them in the meantime (here or, through the vault, in another instance), else a
   * refreshed one — or `undefined` when there is none (refresh not possible, failed, or failed
   * within the last minute).
   */
  afterRejection(env: EnvRecord, rejected: readonly Secret[]): Promise<Secret | undefined> {
    return this.#refresh.afterRejection(env, rejected)
  }

  /** Refreshes when the access token is missing, expired or expires within the hour (cron). */
  refreshIfDue(env: EnvRecord, trigger: RefreshTrigger): Promise<RefreshResult | undefined> {
    return this.#refresh.refreshIfDue(env, trigger)
  }

  /**
   * Keeps the access token fresh from an in-process timer (Node, Deno): `start` is
   * `startRefreshTimer` (`token-timer.ts`), passed in so that only the servers carry it.
   * Returns a function that stops it.
   */
  startTimer(readEnv: () => EnvRecord, start: StartRefreshTimer): () => void {
    return start(this.#timerParts, readEnv)
  }

  // ── Sign-in ────────────────────────────────────────────────────────────────────────────────

  /**
   * Starts a sign-in: the Fyers URL to open and the `state` it carries, signed with a key
   * derived from the app secret (so any instance can verify it without storing it), valid for
   * ten minutes and accepted once.
   */
  startSignIn(env: EnvRecord): Promise<{ url: string; state: string; expiresAt: string }> {
    return this.#signIn.start(env)
  }

  /**
   * Completes a sign-in from the redirect: checks the state, exchanges the auth code for both
   * tokens, keeps them (registry, vault) and says when the access token expires.
   */
  completeSignIn(
    env: EnvRecord,
    authCode: string,
    state: string
  ): Promise<{ token: string; expiresAt: string | null }> {
    return this.#signIn.complete(env, authCode, state)
  }

  // ── Status ─────────────────────────────────────────────────────────────────────────────────

  /** The token part of the status for a snapshot: expiries, last refresh, vault; no token. */
  status(env: EnvRecord, snapshot: ProviderSnapshot<'fyers'>): FyersTokenStatus {
    return fyersTokenStatus(this.#status, env, snapshot)
  }
}

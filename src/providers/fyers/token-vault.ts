/**
 * The Fyers token vault: where the tokens keyline obtains are kept encrypted across restarts and
 * shared between instances, and how its record is loaded into the registry (once per instance,
 * again on a reload) and kept there, so the registry hands out the current access token.
 */

import type { Context, MiddlewareHandler } from 'hono'
import { within } from '../../bounded-wait.ts'
import { jwtExpiry } from '../../catalog/fyers.ts'
import type { EnvReader, EnvRecord } from '../../env.ts'
import type { SecretRegistry } from '../../secrets/registry.ts'
import type { Secret } from '../../secrets/secret.ts'
import type { SharedStore } from '../../store/shared-store.ts'
import { setRefreshTokenExpiry } from '../../telemetry/record.ts'
import {
  digestOf,
  type FyersSnapshot,
  type FyersTokenRecord,
  parseRecord,
  refreshTokenExpiry,
} from './token-record.ts'

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

/** The vault record's name. */
export const FYERS_VAULT_NAME = 'fyers.tokens'

/** What every Fyers token part is given: the facade's options, defaults applied. */
export interface FyersTokenContext {
  readonly registry: SecretRegistry
  /** The store instances share for an environment, if any. */
  readonly store: (env: EnvRecord) => SharedStore | undefined
  readonly fetch: typeof fetch
  readonly log: (line: Record<string, unknown>) => void
  /** How long a token call (and a wait for the vault) may take, in ms. */
  readonly timeoutMs: number
  readonly now: () => number
}

/** What the vault part is given beside the context. */
export interface FyersTokenVaultOptions {
  /** The vault in a store, for an environment. */
  readonly vault: (env: EnvRecord, store: SharedStore) => VaultChoice
  /** Called after this instance kept new tokens, e.g. to publish a reload epoch. */
  readonly onChange?: ((env: EnvRecord) => Promise<void> | void) | undefined
}

/**
 * The vault of the Fyers tokens and this instance's record of them: reads the vault into the
 * registry, keeps new records (registry, vault, other instances), and reads the current token.
 */
export class FyersTokenVault {
  readonly #context: FyersTokenContext
  readonly #vault: FyersTokenVaultOptions['vault']
  readonly #onChange: FyersTokenVaultOptions['onChange']
  #loaded: Promise<void> | undefined
  #ready = false
  #record: FyersTokenRecord | undefined

  constructor(context: FyersTokenContext, options: FyersTokenVaultOptions) {
    this.#context = context
    this.#vault = options.vault
    this.#onChange = options.onChange
  }

  /** The record whose tokens this instance made current, if any. */
  get record(): FyersTokenRecord | undefined {
    return this.#record
  }

  /** The shared store and vault of an environment, or why tokens are kept in memory only. */
  vaultOf(env: EnvRecord): { store?: SharedStore } & VaultChoice {
    const store = this.#context.store(env)
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
          this.#context.log({ level: 'warn', msg: 'fyers tokens not loaded from the vault' })
        }
      )
      this.#loaded = loading
    }
    // A promise another request may own (Workers cancel I/O with its request): wait a bound.
    return within(this.#loaded, this.#context.timeoutMs).then(() => undefined)
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
    const { registry } = this.#context
    const record = await this.readVault(env)
    if (record && record !== this.#record) {
      const boundToken = await registry.bound(env, 'fyers', 'accessToken')
      const boundExp = boundToken === undefined ? undefined : jwtExpiry(boundToken)
      const recordExp = jwtExpiry(record.accessToken)
      // The binding changed since the record was made (a new secret, a redeploy): the record
      // replaces it only when it lasts longer.
      const sameBinding = record.replaces === undefined || record.replaces === digestOf(boundToken)
      const outlasts =
        boundToken === undefined ||
        (recordExp ?? Number.NEGATIVE_INFINITY) > (boundExp ?? Number.NEGATIVE_INFINITY)
      if (sameBinding || outlasts) this.apply(record, 'vault')
    }
    this.reportRefreshExpiry(await registry.resolveProvider(env, 'fyers'))
  }

  /** The vault's record, else (no vault, unreadable, nothing in it) this instance's. */
  async readVault(env: EnvRecord): Promise<FyersTokenRecord | undefined> {
    const { vault } = this.vaultOf(env)
    if (!vault) return this.#record
    try {
      return parseRecord(await vault.get(FYERS_VAULT_NAME)) ?? this.#record
    } catch {
      this.#context.log({ level: 'warn', msg: 'fyers token vault unreadable', provider: 'fyers' })
      return this.#record
    }
  }

  /** Makes a record's tokens current in the registry, unless this instance has a newer one. */
  apply(record: FyersTokenRecord, source: string): void {
    if (this.#record && this.#record !== record && record.obtainedAt < this.#record.obtainedAt) {
      return
    }
    this.#record = record
    this.#context.registry.supply('fyers', 'accessToken', record.accessToken, source)
    if (record.refreshToken) {
      this.#context.registry.supply('fyers', 'refreshToken', record.refreshToken, source)
    }
  }

  /** Keeps a record this instance obtained: registry, vault, and a word to other instances. */
  async keep(env: EnvRecord, record: FyersTokenRecord, source: string): Promise<void> {
    const { log, registry } = this.#context
    this.apply(record, source)
    const { vault } = this.vaultOf(env)
    if (vault) {
      try {
        await vault.set(FYERS_VAULT_NAME, JSON.stringify(record))
      } catch {
        log({ level: 'warn', msg: 'fyers tokens not stored: the vault is unwritable' })
      }
    }
    this.reportRefreshExpiry(await registry.resolveProvider(env, 'fyers'))
    try {
      await this.#onChange?.(env)
    } catch {
      log({ level: 'warn', msg: 'fyers token change not published to other instances' })
    }
  }

  /** The access token the registry hands out now. */
  async currentToken(env: EnvRecord): Promise<Secret | undefined> {
    return (await this.#context.registry.resolveProvider(env, 'fyers')).credentials.accessToken
      .current
  }

  /** When the snapshot's refresh token expires, as far as this instance knows. */
  refreshTokenExpiry(snapshot: FyersSnapshot): number | undefined {
    return refreshTokenExpiry(snapshot, this.#record)
  }

  /** Sets the refresh-token expiry metric from a snapshot. */
  reportRefreshExpiry(snapshot: FyersSnapshot): void {
    const exp = this.refreshTokenExpiry(snapshot)
    setRefreshTokenExpiry(exp === undefined ? undefined : new Date(exp))
  }
}

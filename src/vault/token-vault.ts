import type { SharedStore } from '../store/shared-store.ts'
import {
  FernetKey,
  nowSeconds,
  openWithAny,
  type ParsedToken,
  parseToken,
  randomIv,
} from './fernet-token.ts'

/** The variable whose Fernet key encrypts the vault. */
export const VAULT_KEY_VARIABLE = 'KEYLINE_VAULT_KEY'
/** Comma-separated Fernet keys that still decrypt (what they decrypt is re-encrypted). */
export const VAULT_KEY_OLD_VARIABLE = 'KEYLINE_VAULT_KEY_OLD'
/** What {@link vaultFromEnv} says when no vault key is set. */
export const NO_VAULT_KEY_REASON = 'KEYLINE_VAULT_KEY is not set: tokens are not persisted'

/** The Fernet keys of a {@link TokenVault}, url-safe base64 (`Fernet.generateKey()`). */
export interface VaultKeys {
  /** Encrypts every write, and decrypts. */
  current: string
  /** Still decrypt; a record read under one is re-encrypted with `current` and written back. */
  old?: readonly string[]
}

/** Why a record read as absent, or a rewrite failed; never carries the value or a key. */
export interface VaultWarning {
  /** The record's name, e.g. `fyers.access_token`. */
  readonly name: string
  /**
   * `undecryptable`: no key opens it (corrupt, or written under a key no longer configured);
   * `store-error`: the store failed to read it; `rewrite-failed`: it was read under an old key
   * but writing it back under the current key failed (it is still returned).
   */
  readonly reason: 'undecryptable' | 'store-error' | 'rewrite-failed'
  /** The store's error message, for `store-error` and `rewrite-failed`. */
  readonly error?: string
}

/** Options of {@link TokenVault}. */
export interface TokenVaultOptions {
  /** Where the encrypted records live. */
  store: SharedStore
  keys: VaultKeys
  /**
   * Prepended to every record name to make its store key.
   * @default 'keyline:vault:'
   */
  prefix?: string
  /**
   * Called when a record reads as absent for a reason other than not being there.
   * @default a JSON `warn` line on the console (name and reason only)
   */
  onWarning?: (warning: VaultWarning) => void
}

const DEFAULT_PREFIX = 'keyline:vault:'
const decoder = new TextDecoder()
const encoder = new TextEncoder()

const consoleWarning = (warning: VaultWarning): void => {
  console.warn(
    JSON.stringify({
      level: 'warn',
      time: new Date().toISOString(),
      msg: 'vault record unreadable',
      ...warning,
    })
  )
}

const message = (error: unknown): string => (error instanceof Error ? error.message : String(error))

const checkName = (name: string): void => {
  if (typeof name !== 'string' || name === '')
    throw new TypeError('vault record name must be a non-empty string')
}

/**
 * Named text values (tokens) kept Fernet-encrypted in a {@link SharedStore}: the store only
 * ever holds Fernet tokens. Reads never throw: a record no key opens, or a store failure, reads
 * as `undefined` and is reported to {@link TokenVaultOptions.onWarning}. Writes reject when the
 * store fails, so a caller knows a token was not saved.
 */
export class TokenVault {
  readonly store: SharedStore
  readonly #prefix: string
  readonly #current: FernetKey
  readonly #old: readonly FernetKey[]
  readonly #warn: (warning: VaultWarning) => void

  /** Throws a TypeError/RangeError when a key is not a Fernet key. */
  constructor(options: TokenVaultOptions) {
    const { store, keys } = options
    if (!store || typeof store.get !== 'function' || typeof store.put !== 'function') {
      throw new TypeError('TokenVault: store must be a SharedStore')
    }
    if (!keys || typeof keys.current !== 'string')
      throw new TypeError('TokenVault: keys.current is required')
    this.store = store
    this.#prefix = options.prefix ?? DEFAULT_PREFIX
    if (typeof this.#prefix !== 'string') throw new TypeError('TokenVault: prefix must be a string')
    this.#current = new FernetKey(keys.current)
    this.#old = (keys.old ?? []).map((key) => new FernetKey(key))
    this.#warn = options.onWarning ?? consoleWarning
  }

  /** The value stored as `name`, decrypted; `undefined` when absent or unreadable. */
  async get(name: string): Promise<string | undefined> {
    checkName(name)
    const key = this.#prefix + name
    let token: string | null
    try {
      token = await this.store.get(key)
    } catch (error) {
      this.#warn({ name, reason: 'store-error', error: message(error) })
      return undefined
    }
    if (token === null) return undefined
    let parsed: ParsedToken
    try {
      parsed = parseToken(token)
    } catch {
      this.#warn({ name, reason: 'undecryptable' })
      return undefined
    }
    const current = await this.#current.open(parsed).catch(() => undefined)
    if (current) return decoder.decode(current)
    const old = await openWithAny(this.#old, parsed).catch(() => undefined)
    if (old) {
      const value = decoder.decode(old)
      await this.#rewrite(name, key, value)
      return value
    }
    this.#warn({ name, reason: 'undecryptable' })
    return undefined
  }

  /** Stores `value` as `name`, encrypted with the current key. */
  async set(name: string, value: string): Promise<void> {
    checkName(name)
    if (typeof value !== 'string') throw new TypeError('vault value must be a string')
    await this.store.put(this.#prefix + name, await this.#seal(value))
  }

  /** Removes `name`. */
  async delete(name: string): Promise<void> {
    checkName(name)
    await this.store.delete(this.#prefix + name)
  }

  #seal(value: string): Promise<string> {
    return this.#current.seal(encoder.encode(value), nowSeconds(), randomIv())
  }

  async #rewrite(name: string, key: string, value: string): Promise<void> {
    try {
      await this.store.put(key, await this.#seal(value))
    } catch (error) {
      this.#warn({ name, reason: 'rewrite-failed', error: message(error) })
    }
  }
}

/** What {@link vaultFromEnv} found: a vault, or why there is none. */
export interface VaultFromEnv {
  vault?: TokenVault
  reason?: string
}

const text = (value: unknown): string | undefined =>
  typeof value === 'string' && value.trim() !== '' ? value.trim() : undefined

/** The last result per store, keyed by the key text it was built from. */
const cache = new WeakMap<
  SharedStore,
  { readonly keyText: string; readonly result: VaultFromEnv }
>()

/**
 * The vault `env` configures on `store`: `KEYLINE_VAULT_KEY` encrypts, `KEYLINE_VAULT_KEY_OLD`
 * (comma-separated) still decrypts. No key → `{ reason: 'KEYLINE_VAULT_KEY is not set: tokens
 * are not persisted' }`; a key that is not a Fernet key → a reason naming the variable, never the
 * value. The result is cached per store and key text, so calling it per request parses nothing.
 */
export const vaultFromEnv = (
  env: Readonly<Record<string, unknown>>,
  store: SharedStore
): VaultFromEnv => {
  const current = text(env?.[VAULT_KEY_VARIABLE])
  if (!current) return { reason: NO_VAULT_KEY_REASON }
  const oldText = text(env?.[VAULT_KEY_OLD_VARIABLE]) ?? ''
  const keyText = `${current}\n${oldText}`
  const hit = cache.get(store)
  if (hit?.keyText === keyText) return hit.result
  const result = buildVault(store, current, oldText)
  cache.set(store, { keyText, result })
  return result
}

const buildVault = (store: SharedStore, current: string, oldText: string): VaultFromEnv => {
  const old = oldText
    .split(',')
    .map((key) => key.trim())
    .filter((key) => key !== '')
  try {
    new FernetKey(current)
  } catch {
    return {
      reason: `${VAULT_KEY_VARIABLE} is not a Fernet key (32 url-safe base64-encoded bytes): tokens are not persisted`,
    }
  }
  for (const [index, key] of old.entries()) {
    try {
      new FernetKey(key)
    } catch {
      return {
        reason: `${VAULT_KEY_OLD_VARIABLE} entry ${index + 1} is not a Fernet key (32 url-safe base64-encoded bytes): tokens are not persisted`,
      }
    }
  }
  return { vault: new TokenVault({ store, keys: { current, old } }) }
}

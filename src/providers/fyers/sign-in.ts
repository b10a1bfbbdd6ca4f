/**
 * The Fyers sign-in: a `state` of nonce.exp.HMAC, signed with a key derived from the app secret
 * (any instance verifies it without storing it), short-lived and used once (through the shared
 * store), then the auth code exchanged for both tokens, which are kept like a refresh's.
 */

import { fyersDefinition, jwtExpiry } from '../../catalog/fyers.ts'
import { setHint } from '../../catalog/set-hint.ts'
import { decodeBase64Url, encodeBase64Url } from '../../encoding.ts'
import type { EnvRecord } from '../../env.ts'
import { KeylineError } from '../../errors/keyline-error.ts'
import { runtimeName } from '../../runtime.ts'
import {
  FyersApiError,
  type FyersAppCredentials,
  type FyersTokenGrant,
  fyersExchangeAuthCode,
  fyersSignInUrl,
} from './client.ts'
import {
  type FyersSnapshot,
  type FyersTokenRecord,
  grantProblem,
  iso,
  missingOf,
  refreshExpiryFor,
  replacing,
} from './token-record.ts'
import { type FyersTokenRefresh, failureReason, lockOwner } from './token-refresh.ts'
import type { FyersTokenContext, FyersTokenVault } from './token-vault.ts'

/** How long a sign-in state is accepted. */
export const SIGN_IN_STATE_TTL_MS = 10 * 60 * 1000
const STATE_USED_PREFIX = 'keyline:fyers:sign-in-used:'

const V = fyersDefinition.credentials
const SETTINGS = fyersDefinition.settings
const SIGN_IN_NEEDS = [
  ['clientId', V.clientId.env[0]],
  ['appSecret', V.appSecret.env[0]],
] as const

/** The variables a sign-in needs that the snapshot lacks (none: a sign-in is possible). */
export const signInMissing = (snapshot: FyersSnapshot): string[] => {
  const missing = missingOf(snapshot, SIGN_IN_NEEDS)
  if (!snapshot.settings.redirectUri) missing.push(SETTINGS.redirectUri.env)
  return missing
}

/** URL-safe base64 without padding: what a state in a URL carries. */
const unpadded = (bytes: Uint8Array): string => encodeBase64Url(bytes).replace(/=+$/, '')

/** The sign-in of one app: starts one (a signed state) and completes it (the redirect). */
export class FyersSignIn {
  readonly #context: FyersTokenContext
  readonly #vault: FyersTokenVault
  readonly #refresh: FyersTokenRefresh
  /** Used states of environments without a shared store: this instance's own. */
  readonly #local = new Map<string, { value: string; until: number }>()
  #stateKey: { secret: string; key: Promise<CryptoKey> } | undefined

  constructor(context: FyersTokenContext, vault: FyersTokenVault, refresh: FyersTokenRefresh) {
    this.#context = context
    this.#vault = vault
    this.#refresh = refresh
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

  #stateMessage(snapshot: FyersSnapshot, nonce: string, exp: number): Uint8Array<ArrayBuffer> {
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
  async start(env: EnvRecord): Promise<{ url: string; state: string; expiresAt: string }> {
    const snapshot = await this.#context.registry.resolveProvider(env, 'fyers')
    const missing = signInMissing(snapshot)
    if (missing.length > 0) {
      throw new KeylineError(
        409,
        'fyers_sign_in_unavailable',
        `Fyers sign-in needs ${missing.join(', ')}: ${setHint(missing, runtimeName())}`,
        { details: { missing } }
      )
    }
    const nonce = unpadded(crypto.getRandomValues(new Uint8Array(16)))
    const exp = Math.floor((this.#context.now() + SIGN_IN_STATE_TTL_MS) / 1000)
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
  async #checkState(env: EnvRecord, snapshot: FyersSnapshot, state: string): Promise<void> {
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
    const remaining = exp * 1000 - this.#context.now()
    if (remaining <= 0) return refuse('expired')
    if (!(await this.#useOnce(env, `${STATE_USED_PREFIX}${nonce}`, remaining))) {
      return refuse('already used')
    }
  }

  /** `true` the first time `key` is used while it is valid (shared store, else this instance). */
  async #useOnce(env: EnvRecord, key: string, ttlMs: number): Promise<boolean> {
    const store = this.#context.store(env)
    // A random owner: a lock answers `true` again to the owner that holds it.
    if (store) return store.lock(key, lockOwner(), ttlMs)
    const now = this.#context.now()
    for (const [k, v] of this.#local) if (v.until <= now) this.#local.delete(k)
    if (this.#local.has(key)) return false
    this.#local.set(key, { value: 'used', until: now + ttlMs })
    return true
  }

  /**
   * Completes a sign-in from the redirect: checks the state, exchanges the auth code for both
   * tokens, keeps them (registry, vault) and says when the access token expires.
   */
  async complete(
    env: EnvRecord,
    authCode: string,
    state: string
  ): Promise<{ token: string; expiresAt: string | null }> {
    const { fetch, now, registry, timeoutMs } = this.#context
    const snapshot = await registry.resolveProvider(env, 'fyers')
    const missing = signInMissing(snapshot)
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
      grant = await fyersExchangeAuthCode(fetch, app, authCode, AbortSignal.timeout(timeoutMs))
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
    // What Fyers granted is checked before anything keeps it: it never replaces the current one.
    const problem = grantProblem(grant, { clientId: app.clientId, now: now() })
    if (problem) {
      this.#context.log({ level: 'warn', msg: 'fyers sign-in token refused', reason: problem })
      throw new KeylineError(502, 'upstream_malformed', `Fyers granted a bad token: ${problem}`)
    }
    const previous = this.#vault.record
    const record: FyersTokenRecord = {
      accessToken: grant.accessToken,
      ...(grant.refreshToken
        ? {
            refreshToken: grant.refreshToken,
            ...refreshExpiryFor(grant.refreshToken, true, previous, now),
          }
        : {}),
      obtainedAt: now(),
      by: 'sign-in',
      ...replacing(snapshot, previous),
    }
    const token = await this.#refresh.obtained(
      env,
      record,
      'fyers-sign-in',
      () => this.#refresh.clearBackoff(),
      { msg: 'fyers sign-in completed' }
    )
    return { token: token?.fingerprint ?? '', expiresAt: iso(jwtExpiry(grant.accessToken)) }
  }
}

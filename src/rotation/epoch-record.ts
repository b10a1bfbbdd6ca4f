import { ADMIN_TOKEN_VARIABLES } from '../catalog/keyline.ts'
import { PROVIDER_IDS, type ProviderId } from '../catalog/providers.ts'
import { fromHex, toHex } from '../encoding.ts'
import { storeTimeoutMs, withDeadline } from '../store/store-deadline.ts'
import { VAULT_KEY_VARIABLE } from '../vault/token-vault.ts'

/** The KV key that holds the reload epoch. */
export const DEFAULT_EPOCH_KEY = 'keyline:reload-epoch'

/** The KV binding that holds the reload epoch. */
export const DEFAULT_EPOCH_BINDING = 'KEYLINE_KV'

/** The part of a Workers KV namespace keyline uses. */
export interface KvLike {
  get(key: string): Promise<string | null>
  put(key: string, value: string): Promise<void>
}

/**
 * A next secret promoted in one isolate, to promote in every other isolate of the same
 * deployment. Secrets are named by fingerprint only: an isolate promotes its staged next secret
 * when that fingerprint and the one of the current secret it replaces both match.
 */
export interface PromotionRecord {
  readonly provider: ProviderId
  readonly credential: string
  /** Fingerprint of the promoted next secret. */
  readonly next: string
  /** Fingerprint of the current secret it replaced; `null` when there was none. */
  readonly replaced: string | null
  /** Epoch milliseconds of the promotion. */
  readonly at: number
}

/**
 * The value under the epoch key: a new `epoch` means "look again" (reload; repeat the listed
 * promotions each instance validates itself). `mac` authenticates it: see {@link signEpoch}.
 */
export interface EpochRecord {
  readonly epoch: string
  readonly at: number
  readonly action: 'reload' | 'promote'
  readonly promotions: readonly PromotionRecord[]
  /** HMAC-SHA256 (hex) of the other fields, by a key derived from the admin token or vault key. */
  readonly mac?: string
}

const isPromotion = (value: unknown): value is PromotionRecord => {
  if (!value || typeof value !== 'object') return false
  const p = value as Record<string, unknown>
  return (
    PROVIDER_IDS.includes(p.provider as ProviderId) &&
    typeof p.credential === 'string' &&
    typeof p.next === 'string' &&
    (p.replaced === null || typeof p.replaced === 'string') &&
    typeof p.at === 'number'
  )
}

/** Reads a stored record; anything malformed reads as no record. */
export const parseEpochRecord = (text: string | null): EpochRecord | undefined => {
  if (!text) return undefined
  try {
    const value = JSON.parse(text) as Record<string, unknown>
    if (typeof value.epoch !== 'string' || typeof value.at !== 'number') return undefined
    const promotions = Array.isArray(value.promotions) ? value.promotions.filter(isPromotion) : []
    const action = value.action === 'promote' ? 'promote' : 'reload'
    const mac = typeof value.mac === 'string' ? value.mac : undefined
    return { epoch: value.epoch, at: value.at, action, promotions, mac }
  } catch {
    return undefined
  }
}

/** A fresh, unique epoch: the time and 64 random bits. */
export const newEpoch = (now: number): string => {
  const bytes = crypto.getRandomValues(new Uint8Array(8))
  const random = toHex(bytes)
  return `${now}-${random}`
}

/** One bounded view per namespace, not one per request. */
const boundedKv = new WeakMap<KvLike, KvLike>()

/**
 * The KV namespace bound as `binding` in the Workers env, if there is one, each call bounded by
 * `KEYLINE_STORE_TIMEOUT_MS` (default 250 ms) as every shared store call is.
 */
export const kvBinding = (bindings: unknown, binding: string): KvLike | undefined => {
  if (!bindings || typeof bindings !== 'object') return undefined
  const kv = (bindings as Record<string, unknown>)[binding] as Partial<KvLike> | undefined
  if (typeof kv?.get !== 'function' || typeof kv.put !== 'function') return undefined
  let bounded = boundedKv.get(kv as KvLike)
  if (!bounded) {
    bounded = withDeadline(
      kv as KvLike,
      storeTimeoutMs(bindings as Record<string, unknown>, console.warn)
    )
    boundedKv.set(kv as KvLike, bounded)
  }
  return bounded
}

/**
 * The secrets every instance of a deployment shares, whose values key the record's MAC: the
 * admin tokens (current, then next), then the vault key. The first one set signs; any verifies
 * (so an admin token rotation does not cut instances off one another).
 */
const MAC_KEY_VARIABLES = [...ADMIN_TOKEN_VARIABLES, VAULT_KEY_VARIABLE]

const encoder = new TextEncoder()
const HMAC = { name: 'HMAC', hash: 'SHA-256' } as const

/** The record's MAC key for `secret`: SHA-256 of a label and the secret, never the secret itself. */
const deriveKey = async (secret: string): Promise<CryptoKey> => {
  const bytes = await crypto.subtle.digest(
    'SHA-256',
    encoder.encode(`keyline reload-epoch v1\0${secret}`)
  )
  return crypto.subtle.importKey('raw', bytes, HMAC, false, ['sign', 'verify'])
}

/** The MAC keys of `env`, the signing one first; none when no admin token or vault key is set. */
export const epochKeys = (env: Readonly<Record<string, unknown>>): Promise<CryptoKey[]> => {
  const secrets = MAC_KEY_VARIABLES.map((name) => env[name])
    .map((value) => (typeof value === 'string' ? value.trim() : ''))
    .filter((value) => value !== '')
  return Promise.all(secrets.map(deriveKey))
}

/** What the MAC covers: every field but the MAC, as the record is parsed (a fixed order). */
const signedBytes = ({ mac: _, ...fields }: EpochRecord): Uint8Array<ArrayBuffer> =>
  encoder.encode(JSON.stringify(fields))

/** The stored text of `record`, with its MAC by `key`. */
export const signEpoch = async (record: EpochRecord, key: CryptoKey): Promise<string> => {
  const mac = toHex(new Uint8Array(await crypto.subtle.sign('HMAC', key, signedBytes(record))))
  return JSON.stringify({ ...record, mac })
}

/** Whether `record` carries a MAC one of `keys` made (checked by WebCrypto, in constant time). */
export const verifyEpoch = async (
  record: EpochRecord,
  keys: readonly CryptoKey[]
): Promise<boolean> => {
  if (record.mac === undefined) return false
  const mac = new Uint8Array(fromHex(record.mac))
  const data = signedBytes(record)
  for (const key of keys) if (await crypto.subtle.verify('HMAC', key, mac, data)) return true
  return false
}

import { PROVIDER_IDS, type ProviderId } from '../catalog/providers.ts'
import { toHex } from '../encoding.ts'

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

/** The value under the epoch key: a new `epoch` means "reload", `promotions` say what to promote. */
export interface EpochRecord {
  readonly epoch: string
  readonly at: number
  readonly action: 'reload' | 'promote'
  readonly promotions: readonly PromotionRecord[]
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
    return { epoch: value.epoch, at: value.at, action, promotions }
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

/** The KV namespace bound as `binding` in the Workers env, if there is one. */
export const kvBinding = (bindings: unknown, binding: string): KvLike | undefined => {
  if (!bindings || typeof bindings !== 'object') return undefined
  const kv = (bindings as Record<string, unknown>)[binding]
  if (!kv || typeof kv !== 'object') return undefined
  const candidate = kv as Partial<KvLike>
  return typeof candidate.get === 'function' && typeof candidate.put === 'function'
    ? (kv as KvLike)
    : undefined
}

import { REDACTED } from '../secrets/fingerprint.ts'
import type { EnvRecord } from '../secrets/read-value.ts'
import type { SecretRegistry } from '../secrets/registry.ts'
import type { PromotionRecord } from './epoch-record.ts'
import { rotatingState } from './rotating-credential.ts'

/**
 * Promotes, in this isolate, the staged next secrets that another isolate promoted: those whose
 * fingerprint, and the fingerprint of the current secret they replace, match the record.
 * Returns how many were promoted.
 */
export const applyPromotions = async (
  registry: SecretRegistry,
  env: EnvRecord,
  promotions: readonly PromotionRecord[]
): Promise<number> => {
  let applied = 0
  for (const promotion of promotions) {
    if (promotion.next === REDACTED) continue
    const snapshot = await registry.resolveProvider(env, promotion.provider)
    const { current, next } = rotatingState(snapshot)
    if (!next || next.credential !== promotion.credential) continue
    if (next.fingerprint !== promotion.next) continue
    if ((current?.fingerprint ?? null) !== promotion.replaced) continue
    registry.promote(next, current)
    applied += 1
  }
  return applied
}

import type { SecretRegistry } from '../secrets/registry.ts'
import {
  type EpochRecord,
  type KvLike,
  newEpoch,
  type PromotionRecord,
  parseEpochRecord,
} from './epoch-record.ts'
import { epochStateOf } from './epoch-state.ts'

/** What to publish: a reload, or a promotion (which is a reload too). */
export type EpochChange =
  | { readonly action: 'reload' }
  | { readonly action: 'promote'; readonly promotion: PromotionRecord }

/** Keeps one promotion per provider credential: the latest. */
const mergePromotions = (
  previous: readonly PromotionRecord[],
  added: PromotionRecord | undefined
): PromotionRecord[] => {
  const byCredential = new Map<string, PromotionRecord>()
  for (const p of [...previous, ...(added ? [added] : [])]) {
    byCredential.set(`${p.provider}.${p.credential}`, p)
  }
  return [...byCredential.values()]
}

/**
 * Writes a new reload epoch to KV so every isolate reloads at its next check, carrying the
 * promotions they must repeat (fingerprints only). This isolate marks the epoch as seen, since
 * it has already done what the epoch asks. Returns the record written.
 */
export const publishEpoch = async (
  kv: KvLike,
  key: string,
  registry: SecretRegistry,
  change: EpochChange,
  now: number
): Promise<EpochRecord> => {
  const previous = parseEpochRecord(await kv.get(key))
  const record: EpochRecord = {
    epoch: newEpoch(now),
    at: now,
    action: change.action,
    promotions: mergePromotions(
      previous?.promotions ?? [],
      change.action === 'promote' ? change.promotion : undefined
    ),
  }
  await kv.put(key, JSON.stringify(record))
  const state = epochStateOf(registry)
  state.known = record.epoch
  state.checkedAt = now
  return record
}

import type { Context, MiddlewareHandler } from 'hono'
import type { EnvRecord } from '../env.ts'
import { type EnvReader, readEnv } from '../env.ts'
import { type AdminLogger, consoleJsonLogger } from '../log/sink.ts'
import { REDACTED } from '../secrets/fingerprint.ts'
import type { SecretRegistry } from '../secrets/registry.ts'
import { recordReload } from '../telemetry/record.ts'
import {
  DEFAULT_EPOCH_BINDING,
  DEFAULT_EPOCH_KEY,
  type EpochRecord,
  type KvLike,
  kvBinding,
  newEpoch,
  type PromotionRecord,
  parseEpochRecord,
} from './epoch-record.ts'
import type { NextSecretValidator } from './next-validator.ts'
import { rotatingState } from './rotating-credential.ts'

/** The epoch a registry has applied in this isolate, shared by the checker and the publisher. */
interface EpochState {
  /** The last epoch seen: `undefined` before the first check, `''` when none was stored. */
  known: string | undefined
  /** Epoch milliseconds of the last check of the store. */
  checkedAt: number
}

const states = new WeakMap<SecretRegistry, EpochState>()

/** The epoch state of `registry` in this isolate (one per registry). */
const epochStateOf = (registry: SecretRegistry): EpochState => {
  let state = states.get(registry)
  if (!state) {
    state = { known: undefined, checkedAt: Number.NEGATIVE_INFINITY }
    states.set(registry, state)
  }
  return state
}

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

/**
 * Promotes, in this isolate, the staged next secrets that another isolate promoted: those whose
 * fingerprint, and the fingerprint of the current secret they replace, match the record.
 * Returns how many were promoted.
 */
const applyPromotions = async (
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

/** Options of {@link reloadEpoch}. */
export interface ReloadEpochOptions {
  /** The registry the app reads secrets from; the same one the admin routes use. */
  registry: SecretRegistry
  /** Its validity cache is dropped on a reload, so next secrets are checked again. */
  validator?: NextSecretValidator
  /** How the request's environment is read (to repeat promotions). @default readEnv */
  env?: EnvReader
  /** The KV binding in `c.env`. @default 'KEYLINE_KV' */
  binding?: string
  /**
   * The store the instances share, in place of the KV binding: Redis for Node and Deno
   * replicas. @default the KV binding, when bound
   */
  store?: KvLike
  /** The KV key of the epoch record. @default 'keyline:reload-epoch' */
  key?: string
  /** Runs after this instance applied a new epoch (e.g. to read the token vault again). */
  onApplied?: (env: EnvRecord) => Promise<void> | void
  /**
   * How often, at most, an isolate reads the epoch, in milliseconds: a reload anywhere takes
   * effect everywhere within this bound (plus KV's own propagation between locations).
   * @default 5000
   */
  intervalMs?: number
  /** Where applied epochs and KV read failures are logged. @default consoleJsonLogger */
  log?: AdminLogger
  /** Clock, for tests. @default Date.now */
  now?: () => number
}

/**
 * Makes a reload or promotion done in one Workers isolate take effect in every isolate: at most
 * every `intervalMs` it reads the epoch record from the KV binding (when bound) and, when the
 * epoch changed, reloads the registry, drops cached validity and repeats the promotions the
 * record lists. Without the binding or a `store` (Redis on Node and Deno) it does nothing. Mount
 * it before `secrets()`.
 */
export const reloadEpoch = (options: ReloadEpochOptions): MiddlewareHandler => {
  const { registry, validator } = options
  if (!registry) throw new TypeError('reloadEpoch(): registry is required')
  const readRequestEnv = options.env ?? readEnv
  const binding = options.binding ?? DEFAULT_EPOCH_BINDING
  const key = options.key ?? DEFAULT_EPOCH_KEY
  const intervalMs = options.intervalMs ?? 5000
  if (!Number.isFinite(intervalMs) || intervalMs < 0) {
    throw new TypeError('reloadEpoch(): intervalMs must be a non-negative number of milliseconds')
  }
  const log = options.log ?? consoleJsonLogger
  const now = options.now ?? Date.now
  const state = epochStateOf(registry)

  const check = async (kv: KvLike, c: Context): Promise<void> => {
    state.checkedAt = now()
    let text: string | null
    try {
      text = await kv.get(key)
    } catch {
      log({ level: 'warn', msg: 'reload epoch unreadable', binding, key })
      return
    }
    const record = parseEpochRecord(text)
    const first = state.known === undefined
    if (!record) {
      state.known ??= ''
      return
    }
    if (record.epoch === state.known) return
    state.known = record.epoch
    registry.reload()
    if (!first) recordReload('success')
    validator?.clear()
    const env = readRequestEnv(c)
    const promoted = await applyPromotions(registry, env, record.promotions)
    if (!first) await options.onApplied?.(env)
    log({
      level: 'info',
      msg: first ? 'reload epoch read' : 'reload epoch applied',
      epoch: record.epoch,
      action: record.action,
      promoted,
      time: new Date(now()).toISOString(),
    })
  }

  return async function reloadEpochMiddleware(c, next) {
    const kv = options.store ?? kvBinding(c.env, binding)
    // Only the request that starts a check waits for it (check() marks the time before its
    // first await): a request never awaits another's I/O, which Workers would cancel with it.
    if (kv && now() - state.checkedAt >= intervalMs) await check(kv, c)
    await next()
  }
}

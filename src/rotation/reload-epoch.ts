import type { Context, MiddlewareHandler } from 'hono'
import { within } from '../bounded-wait.ts'
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
  epochKeys,
  type KvLike,
  kvBinding,
  newEpoch,
  type PromotionRecord,
  parseEpochRecord,
  signEpoch,
  verifyEpoch,
} from './epoch-record.ts'
import { NextSecretValidator } from './next-validator.ts'
import { rotatingState } from './rotating-credential.ts'

/** The epoch a registry has applied in this isolate, shared by the checker and the publisher. */
interface EpochState {
  /** The last epoch seen: `undefined` before the first check, `''` when none was stored. */
  known: string | undefined
  /** Epoch milliseconds of the last check of the store. */
  checkedAt: number
  /** The epoch of the last record ignored for its MAC: each is logged once. */
  ignored?: string
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

/** The stored record when its MAC is one of `keys`'; `undefined` for none or one unsigned. */
const readVerified = async (
  text: string | null,
  keys: readonly CryptoKey[]
): Promise<{ record?: EpochRecord; forged?: EpochRecord }> => {
  const record = parseEpochRecord(text)
  if (!record) return {}
  return (await verifyEpoch(record, keys)) ? { record } : { forged: record }
}

/**
 * Writes a new reload epoch to KV so every isolate looks again at its next check, carrying the
 * promotions they may repeat (fingerprints only; each validates the next secret itself) and a
 * MAC by a key derived from `env`'s admin token (else its vault key). This isolate marks the
 * epoch as seen, since it has already done what the epoch asks. Returns the record written;
 * `undefined` (nothing written) when `env` has neither secret to sign with.
 */
export const publishEpoch = async (
  kv: KvLike,
  key: string,
  registry: SecretRegistry,
  change: EpochChange,
  now: number,
  env: EnvRecord
): Promise<EpochRecord | undefined> => {
  const keys = await epochKeys(env)
  const signing = keys[0]
  if (!signing) return undefined
  // Promotions are carried over from a record this deployment signed, never from a forged one.
  const { record: previous } = await readVerified(await kv.get(key), keys)
  const record: EpochRecord = {
    epoch: newEpoch(now),
    at: now,
    action: change.action,
    promotions: mergePromotions(
      previous?.promotions ?? [],
      change.action === 'promote' ? change.promotion : undefined
    ),
  }
  await kv.put(key, await signEpoch(record, signing))
  const state = epochStateOf(registry)
  state.known = record.epoch
  state.checkedAt = now
  return record
}

/**
 * Promotes, in this isolate, the staged next secrets that another isolate promoted: those whose
 * fingerprint, and the fingerprint of the current secret they replace, match the record, and
 * that this isolate's own validation finds `valid` (the rule of `POST /admin/keys/promote`): a
 * record names a promotion, it never decides one. Returns how many were promoted, and whether
 * a next secret's validity could not be told (upstream unreachable): then look again later.
 */
const applyPromotions = async (
  registry: SecretRegistry,
  validator: NextSecretValidator,
  env: EnvRecord,
  promotions: readonly PromotionRecord[],
  log: AdminLogger
): Promise<{ promoted: number; retry: boolean }> => {
  let promoted = 0
  let retry = false
  for (const promotion of promotions) {
    if (promotion.next === REDACTED) continue
    const snapshot = await registry.resolveProvider(env, promotion.provider)
    const { current, next } = rotatingState(snapshot)
    if (!next || next.credential !== promotion.credential) continue
    if (next.fingerprint !== promotion.next) continue
    if ((current?.fingerprint ?? null) !== promotion.replaced) continue
    const { state = 'unknown', reason } = (await validator.validate(snapshot)) ?? {}
    if (state === 'valid') {
      registry.promote(next, current)
      promoted += 1
    } else {
      retry ||= state === 'unknown'
      const { provider } = promotion
      log({
        level: 'warn',
        msg: 'reload epoch promotion refused',
        provider,
        state,
        reason,
      })
    }
  }
  return { promoted, retry }
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
  /**
   * How long the request that starts a check waits for it, in milliseconds; the check goes on
   * after that (off the request path) and this request is served with what the instance has.
   * @default 250
   */
  waitMs?: number
  /** Clock, for tests. @default Date.now */
  now?: () => number
}

/**
 * Makes a reload or promotion done in one Workers isolate take effect in every isolate: at most
 * every `intervalMs` it reads the epoch record from the KV binding (when bound) and, when the
 * epoch changed and the record's MAC is the deployment's, reloads the registry, drops cached
 * validity and repeats the promotions the record lists whose next secret this instance itself
 * validates. A record without a valid MAC is ignored (logged once). No request waits on the
 * check longer than `waitMs`. Without the binding or a `store` (Redis on Node and Deno) it does
 * nothing. Mount it before `secrets()`.
 */
export const reloadEpoch = (options: ReloadEpochOptions): MiddlewareHandler => {
  const { registry } = options
  if (!registry) throw new TypeError('reloadEpoch(): registry is required')
  const validator = options.validator ?? new NextSecretValidator()
  const waitMs = options.waitMs ?? 250
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
    // A store that fails or does not answer rejects here: logged by the caller.
    const text = await kv.get(key)
    const env = readRequestEnv(c)
    const { record, forged } = await readVerified(text, await epochKeys(env))
    const first = state.known === undefined
    if (forged && forged.epoch !== state.ignored) {
      state.ignored = forged.epoch
      log({ level: 'warn', msg: 'reload epoch ignored: bad MAC', key })
    }
    if (!record) {
      state.known ??= ''
      return
    }
    if (record.epoch === state.known) return
    const previous = state.known
    state.known = record.epoch
    registry.reload()
    if (!first) recordReload('success')
    validator.clear()
    const applied = await applyPromotions(registry, validator, env, record.promotions, log)
    // A next secret whose validity is unknown yet (upstream unreachable): the next check tries again.
    if (applied.retry) state.known = previous
    if (!first) await options.onApplied?.(env)
    log({
      level: 'info',
      msg: first ? 'reload epoch read' : 'reload epoch applied',
      epoch: record.epoch,
      action: record.action,
      promoted: applied.promoted,
      time: new Date(now()).toISOString(),
    })
  }

  return async function reloadEpochMiddleware(c, next) {
    const kv = options.store ?? kvBinding(c.env, binding)
    // At most every intervalMs (check() marks the time before its first await). The request
    // that starts a check waits at most waitMs; the check goes on without it (kept alive on
    // Workers by waitUntil), and every request is served with what this instance has: a store
    // that hangs or refuses costs no request more than waitMs.
    if (kv && now() - state.checkedAt >= intervalMs) {
      const run = check(kv, c).catch(() =>
        log({ level: 'warn', msg: 'reload epoch unreadable', binding, key })
      )
      keepAlive(c, run)
      await within(run, waitMs)
    }
    await next()
  }
}

/** Lets Workers finish `work` after the answer; elsewhere (no execution context) a no-op. */
const keepAlive = (c: Context, work: Promise<unknown>): void => {
  try {
    c.executionCtx.waitUntil(work)
  } catch {
    // Node and Deno: the promise runs on by itself.
  }
}

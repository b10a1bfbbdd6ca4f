import type { Context, MiddlewareHandler } from 'hono'
import { type AdminLogger, consoleJsonLogger } from '../admin/audit.ts'
import { type EnvReader, readEnv } from '../env.ts'
import type { SecretRegistry } from '../secrets/registry.ts'
import { recordReload } from '../telemetry/record.ts'
import { applyPromotions } from './apply-promotions.ts'
import {
  DEFAULT_EPOCH_BINDING,
  DEFAULT_EPOCH_KEY,
  type KvLike,
  kvBinding,
  parseEpochRecord,
} from './epoch-record.ts'
import { epochStateOf } from './epoch-state.ts'
import type { NextSecretValidator } from './next-validator.ts'

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
  /** The KV key of the epoch record. @default 'keyline:reload-epoch' */
  key?: string
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
 * record lists. Without the binding (Node, Deno) it does nothing. Mount it before `secrets()`.
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
    const promoted = await applyPromotions(registry, readRequestEnv(c), record.promotions)
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
    const kv = kvBinding(c.env, binding)
    // Only the request that starts a check waits for it (check() marks the time before its
    // first await): a request never awaits another's I/O, which Workers would cancel with it.
    if (kv && now() - state.checkedAt >= intervalMs) await check(kv, c)
    await next()
  }
}

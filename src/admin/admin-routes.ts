import type { Context, Hono } from 'hono'
import { HTTPException } from 'hono/http-exception'
import { within } from '../bounded-wait.ts'
import { PROVIDER_IDS, type ProviderId, providerDefinitions } from '../catalog/providers.ts'
import { setHint } from '../catalog/set-hint.ts'
import { type EnvReader, readEnv } from '../env.ts'
import { KeylineError } from '../errors/keyline-error.ts'
import { honoApp } from '../hono-app.ts'
import { type AdminLogger, consoleJsonLogger } from '../log/sink.ts'
import { clientTokensStatus } from '../middleware/client-auth.ts'
import type { ClientQuotas } from '../middleware/client-quotas.ts'
import { redactorOf } from '../middleware/redaction.ts'
import type { FyersTokens } from '../providers/fyers/tokens.ts'
import {
  DEFAULT_EPOCH_BINDING,
  DEFAULT_EPOCH_KEY,
  type EpochRecord,
  type KvLike,
  kvBinding,
} from '../rotation/epoch-record.ts'
import { NextSecretValidator } from '../rotation/next-validator.ts'
import { type EpochChange, publishEpoch } from '../rotation/reload-epoch.ts'
import { rotatingCredential, rotatingState } from '../rotation/rotating-credential.ts'
import { runtimeName } from '../runtime.ts'
import type { SecretRegistry, SecretsSnapshot } from '../secrets/registry.ts'
import { storeTimeoutMs } from '../store/store-deadline.ts'
import { HealthTracker } from '../telemetry/provider-health.ts'
import { recordReload } from '../telemetry/record.ts'
import { type AdminAuthOptions, adminAuth } from './admin-auth.ts'
import { type AdminEnv, audited, writeAudit } from './audit.ts'
import { consoleRoutes } from './console/console-routes.ts'
import type { ConsoleAssets } from './console/console-source.ts'
import {
  isEventId,
  isRotationAction,
  MAX_EVENTS_PAGE,
  RotationEvents,
  UNAUTHENTICATED,
} from './events.ts'
import { fyersAdminRoutes, fyersCallbackRoute } from './fyers-routes.ts'
import { type KeyStatus, keyStatus } from './key-status.ts'

/** Where the reload epoch lives in KV; share these with {@link reloadEpoch}. */
export interface AdminEpochOptions {
  /** The KV binding in `c.env`. @default 'KEYLINE_KV' */
  binding?: string
  /** The KV key of the epoch record. @default 'keyline:reload-epoch' */
  key?: string
}

/** Options of {@link adminRoutes}. */
export interface AdminOptions extends AdminAuthOptions {
  /** The registry the app reads secrets from; the same one `secrets()` uses. */
  registry: SecretRegistry
  /** Per-provider health shown in the status. @default a new, empty tracker */
  health?: HealthTracker
  /**
   * Checks and remembers next-secret validity; share it with `reloadEpoch()` and the proxy.
   * @default a new NextSecretValidator using `fetch`
   */
  validator?: NextSecretValidator
  /** The fetch of next-secret validation, when no `validator` is given. @default globalThis.fetch */
  fetch?: typeof fetch
  /** How the request's environment is read. @default readEnv */
  env?: EnvReader
  /** Runtime name shown in the status. @default runtimeName(): `node`, `deno`, `workerd`, … as hono/adapter names them */
  runtime?: string
  /** Where audit lines and failed attempts go. @default consoleJsonLogger */
  log?: AdminLogger
  /** The reload epoch in KV (Workers). @default binding KEYLINE_KV, key keyline:reload-epoch */
  epoch?: AdminEpochOptions
  /**
   * The store the instances share, where reloads and promotions are published in place of the
   * KV binding (Redis for Node and Deno replicas). @default the KV binding, when bound
   */
  store?: KvLike
  /**
   * The Fyers token lifecycle: adds `POST /fyers/login`, `GET /fyers/callback`,
   * `POST /fyers/refresh` and the token part of the status. @default none: those routes are absent
   */
  fyersTokens?: FyersTokens
  /**
   * The rotation events log (`GET /events`, the console): admin reloads, validations,
   * promotions and Fyers sign-ins and refreshes are recorded in it.
   * @default a new log in this instance's memory
   */
  events?: RotationEvents
  /** The per-client quotas: their usage is part of the status. @default none shown */
  quotas?: ClientQuotas
  /**
   * Where the console's page, script and style come from: the entries pass the generated
   * strings (`bundledConsoleAssets`; Node, Deno) or the Worker's static assets binding.
   * @default the ones installed with `useConsoleAssets` (importing the `keyline` package or
   * `keyline/admin` installs the generated strings); none: the console answers 404
   */
  consoleAssets?: ConsoleAssets
}

/** The Hono environment of the admin routes. */
/**
 * A JSON request body, read as `hono/validator`'s `json` target reads it: `{}` unless the
 * content type is JSON, a 400 when it does not parse.
 */
const jsonOf = async (c: Context): Promise<unknown> => {
  const type = c.req.header('content-type')?.split(';')[0]?.trim().toLowerCase() ?? ''
  if (!/^application\/([\w.-]+\+)?json$/.test(type)) return {}
  try {
    return await c.req.json()
  } catch {
    throw new HTTPException(400, { message: 'Malformed JSON in request body' })
  }
}

/** Status fields that hold free text, redacted before an answer goes out. */
const FREE_TEXT: ReadonlySet<string> = new Set(['message', 'lastError', 'reason', 'detail'])

/** The body of `POST /admin/keys/reload`: the new status and what was published. */
export interface ReloadResult extends KeyStatus {
  readonly reload: { readonly epoch: string | null; readonly propagated: boolean }
  /** Set when the reload stands here but the shared store could not tell the other instances. */
  readonly warning?: string
}

/** The body of `POST /admin/keys/promote`. */
export interface PromoteResult extends KeyStatus {
  readonly promoted: {
    readonly provider: ProviderId
    readonly credential: string
    readonly fingerprint: string
    readonly replaced: string | null
    readonly propagated: boolean
  }
  /** Set when the promotion stands here but the shared store could not tell the other instances. */
  readonly warning?: string
}

/** The `warning` of a reload or promotion that the shared store could not carry. */
export const STORE_UNAVAILABLE_WARNING =
  'the shared store is unavailable: other instances were not told of this change (it applies here; reload again once the store is back)'

const providerList = PROVIDER_IDS.join(', ')
const isProviderId = (value: unknown): value is ProviderId =>
  (PROVIDER_IDS as readonly unknown[]).includes(value)

/**
 * The admin API, to mount at `/admin`: `GET /keys/status`, `POST /keys/reload` and
 * `POST /keys/promote {"provider":"anthropic"}`, behind {@link adminAuth}. Responses carry
 * fingerprints, sources and generations, never a secret value; every action is audited.
 */
export const adminRoutes = (options: AdminOptions): Hono<AdminEnv> => {
  const { registry } = options
  if (!registry) throw new TypeError('adminRoutes(): registry is required')
  if (options.validator && options.fetch) {
    throw new TypeError('adminRoutes(): pass fetch to the validator, not beside it')
  }
  const health = options.health ?? new HealthTracker()
  const validator = options.validator ?? new NextSecretValidator({ fetch: options.fetch })
  const readRequestEnv = options.env ?? readEnv
  const runtime = options.runtime ?? runtimeName()
  const log = options.log ?? consoleJsonLogger
  const now = options.now ?? Date.now
  const binding = options.epoch?.binding ?? DEFAULT_EPOCH_BINDING
  const epochKey = options.epoch?.key ?? DEFAULT_EPOCH_KEY

  const { fyersTokens } = options
  const events = options.events ?? new RotationEvents({ log })

  const statusOf = async (c: Context, snapshot: SecretsSnapshot): Promise<KeyStatus> => {
    const env = readRequestEnv(c)
    const [clients] = await Promise.all([
      clientTokensStatus(env, registry),
      ...PROVIDER_IDS.map((id) => validator.validate(snapshot[id])),
    ])
    return redactFreeText(c, {
      ...keyStatus(
        snapshot,
        (id) => validator.peek(snapshot[id]),
        (id) => health.get(id),
        runtime,
        now(),
        // A store's error is its own words: the request's redactor (every credential the
        // environment holds, AWS keys included) takes out any secret it quotes.
        registry
          .storeStatus()
          .map((store) =>
            store.lastError === null
              ? store
              : { ...store, lastError: redactorOf(c, readRequestEnv).redactString(store.lastError) }
          ),
        fyersTokens && { fyers: fyersTokens.status(env, snapshot.fyers) }
      ),
      clients,
      ...(options.quotas && { limits: await options.quotas.status(env, clients.names) }),
    })
  }

  /**
   * The status with its free text (issue messages, store errors: a store's own words may quote
   * what it was sent) passed through the request's redactor, which knows every credential the
   * environment holds, AWS keys included. Names, sources and fingerprints are keyline's own and
   * stay as they are (a JSON secret's field names would otherwise match them).
   */
  const redactFreeText = <T>(c: Context, status: T): T => {
    const redactor = redactorOf(c, readRequestEnv)
    const walk = (value: unknown, key: string | undefined): unknown => {
      if (typeof value === 'string') {
        return key !== undefined && FREE_TEXT.has(key) ? redactor.redactString(value) : value
      }
      if (Array.isArray(value)) return value.map((item) => walk(item, key))
      if (value && typeof value === 'object') {
        return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, walk(v, k)]))
      }
      return value
    }
    return walk(status, undefined) as T
  }

  /**
   * Tells the other instances of a change already made here, through the shared store. A store
   * that fails or hangs does not undo the change nor fail the answer: `failed` is set (the answer
   * carries {@link STORE_UNAVAILABLE_WARNING}, logged once as a warning). The read and the write
   * of the epoch record together get one store deadline beyond the first (each call has its
   * own), so a hanging store holds the answer ~2 × `KEYLINE_STORE_TIMEOUT_MS` at most.
   */
  const publish = async (
    c: Context,
    change: EpochChange
  ): Promise<{ record?: EpochRecord; failed?: true }> => {
    const kv = options.store ?? kvBinding(c.env, binding)
    if (!kv) return {}
    const env = readRequestEnv(c)
    let reason: unknown
    try {
      const publishing = publishEpoch(kv, epochKey, registry, change, now(), env)
      publishing.catch(() => {})
      const answer = await within(
        publishing.then((record) => ({ record })),
        2 * storeTimeoutMs(env)
      )
      if (answer) return answer
      reason = 'no answer in time'
    } catch (error) {
      reason = error
    }
    log({
      level: 'warn',
      msg: `${change.action}: ${STORE_UNAVAILABLE_WARNING}`,
      action: change.action,
      error: redactorOf(c, readRequestEnv).redactString(
        reason instanceof Error ? reason.message : String(reason)
      ),
    })
    return { failed: true }
  }

  /** The `provider` of a validate or promote body; a 400 (audited) for anything else. */
  function providerOf(
    value: unknown,
    c: Context<AdminEnv>,
    action: 'validate'
  ): ProviderId | undefined
  function providerOf(value: unknown, c: Context<AdminEnv>, action: 'promote'): ProviderId
  function providerOf(
    value: unknown,
    c: Context<AdminEnv>,
    action: 'validate' | 'promote'
  ): ProviderId | undefined {
    const provider = (value as { provider?: unknown } | null)?.provider
    if (isProviderId(provider) || (provider === undefined && action === 'validate')) {
      return provider
    }
    writeAudit(log, c, action, null, 'rejected', now(), { error: 'invalid_request' })
    throw new KeylineError(400, 'invalid_request', `provider must be one of: ${providerList}`, {
      details: { valid_providers: PROVIDER_IDS },
    })
  }

  /**
   * Whether a published change reaches other instances: only through a store they share (KV,
   * Redis); a file or memory store is this instance's own.
   */
  const propagates = (c: Context, record: EpochRecord | undefined): boolean => {
    if (record === undefined) return false
    if (!options.store) return kvBinding(c.env, binding) !== undefined
    const kind = (options.store as { kind?: string }).kind
    // A store without a kind is a KV namespace (the shape Workers bind).
    return kind === undefined || kind === 'kv' || kind === 'redis'
  }

  const app = honoApp<AdminEnv>()
  // Every audited action but the status is a rotation event, stored before the answer goes.
  app.use(async function rotationEventsMiddleware(c, next) {
    try {
      await next()
    } finally {
      const trail = c.get('auditTrail') ?? []
      await events.record(
        readRequestEnv(c),
        ...trail.flatMap(({ action, provider, result, token, at, detail }) =>
          isRotationAction(action)
            ? [
                {
                  action,
                  provider,
                  result,
                  // Rejected without any admin credential (anyone can send a sign-in callback):
                  // counted, one line a minute on its own budget, never one event each.
                  who: token ?? (result === 'ok' ? 'sign-in link' : UNAUTHENTICATED),
                  at,
                  detail,
                },
              ]
            : []
        )
      )
    }
  })
  // The console page and its assets hold no data: they load without a bearer.
  app.route('/', consoleRoutes(readRequestEnv, options.consoleAssets))
  const fyers = fyersTokens && { tokens: fyersTokens, env: readRequestEnv, log, now }
  // The sign-in redirect target takes no bearer: its signed state proves an admin started it.
  if (fyers) app.route('/', fyersCallbackRoute(fyers))
  app.use(adminAuth({ ...options, env: readRequestEnv, log, now }))
  if (fyers) app.route('/', fyersAdminRoutes(fyers))

  app.get('/keys/status', async (c) => {
    const body = await audited(log, c, 'status', null, now, async () => ({
      result: await statusOf(c, await registry.resolve(readRequestEnv(c))),
    }))
    return c.json(body, 200, { 'cache-control': 'no-store' })
  })

  app.post('/keys/validate', async (c) => {
    const provider = providerOf(await jsonOf(c), c, 'validate')
    const body = await audited(log, c, 'validate', provider ?? null, now, async () => {
      const snapshot = await registry.resolve(readRequestEnv(c))
      const checked = provider ? [provider] : PROVIDER_IDS
      for (const id of checked) validator.forget(id)
      const result = await statusOf(c, snapshot)
      const verdicts = checked
        .map((id) => `${id}: ${result.providers[id].next?.validity ?? 'not staged'}`)
        .join(', ')
      return { result, extra: { next: verdicts } }
    })
    return c.json(body, 200, { 'cache-control': 'no-store' })
  })

  app.get('/events', async (c) => {
    const before = c.req.query('before')
    const limitText = c.req.query('limit')
    const limit = limitText === undefined ? undefined : Number(limitText)
    if (before !== undefined && !isEventId(before)) {
      throw new KeylineError(400, 'invalid_request', 'before must be the id of an event')
    }
    if (
      limit !== undefined &&
      !(Number.isInteger(limit) && limit >= 1 && limit <= MAX_EVENTS_PAGE)
    ) {
      throw new KeylineError(
        400,
        'invalid_request',
        `limit must be a whole number from 1 to ${MAX_EVENTS_PAGE}`
      )
    }
    const page = await events.list(readRequestEnv(c), { before, limit })
    return c.json(page, 200, { 'cache-control': 'no-store' })
  })

  /** The generations the previous reload found: a reload finding the same ones changed nothing. */
  let lastReloaded: string | undefined
  app.post('/keys/reload', async (c) => {
    const body = await audited(log, c, 'reload', null, now, async () => {
      const generations = (s: SecretsSnapshot): string =>
        PROVIDER_IDS.map((p) => s[p].generation).join(',')
      let snapshot: SecretsSnapshot
      try {
        registry.reload()
        validator.clear()
        snapshot = await registry.resolve(readRequestEnv(c))
        const seen = generations(snapshot)
        recordReload(seen === lastReloaded ? 'unchanged' : 'success')
        lastReloaded = seen
      } catch (error) {
        recordReload('failure')
        throw error
      }
      const status = await statusOf(c, snapshot)
      const { record, failed } = await publish(c, { action: 'reload' })
      const result: ReloadResult = {
        ...status,
        reload: { epoch: record?.epoch ?? null, propagated: propagates(c, record) },
        ...(failed && { warning: STORE_UNAVAILABLE_WARNING }),
      }
      return { result, extra: { epoch: record?.epoch ?? null } }
    })
    return c.json(body, 200, { 'cache-control': 'no-store' })
  })

  app.post('/keys/promote', async (c) => {
    const provider = providerOf(await jsonOf(c), c, 'promote')
    const body = await audited(log, c, 'promote', provider, now, async () => {
      const env = readRequestEnv(c)
      const snapshot = await registry.resolveProvider(env, provider)
      const { name, definition } = rotatingCredential(provider)
      const { current, next } = rotatingState(snapshot)
      const label = `${providerDefinitions[provider].name} ${definition.label}`
      if (!next) {
        throw new KeylineError(
          409,
          'next_not_staged',
          `No next ${label} is staged: ${setHint([definition.next], runtime)}`,
          { details: { provider } }
        )
      }
      const validity = await validator.validate(snapshot)
      if (validity?.state !== 'valid') {
        throw new KeylineError(
          409,
          'next_not_valid',
          `The next ${label} is ${validity?.state ?? 'unknown'}, not valid: it cannot be promoted`,
          {
            details: {
              provider,
              validity: validity?.state ?? 'unknown',
              reason: validity?.reason,
            },
          }
        )
      }
      registry.promote(next, current)
      const { record, failed } = await publish(c, {
        action: 'promote',
        promotion: {
          provider,
          credential: name,
          next: next.fingerprint,
          replaced: current?.fingerprint ?? null,
          at: now(),
        },
      })
      const status = await statusOf(c, await registry.resolve(env))
      const result: PromoteResult = {
        ...status,
        promoted: {
          provider,
          credential: name,
          fingerprint: next.fingerprint,
          replaced: current?.fingerprint ?? null,
          propagated: propagates(c, record),
        },
        ...(failed && { warning: STORE_UNAVAILABLE_WARNING }),
      }
      return {
        result,
        extra: { from: current?.fingerprint ?? null, to: next.fingerprint },
      }
    })
    return c.json(body, 200, { 'cache-control': 'no-store' })
  })

  return app
}

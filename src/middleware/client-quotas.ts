import type { MiddlewareHandler } from 'hono'
import { within } from '../bounded-wait.ts'
import {
  CLIENT_LIMITS_BINDING,
  CLIENT_LIMITS_FAIL_VARIABLE,
  CLIENT_LIMITS_VARIABLE,
  LIMIT_KINDS,
} from '../catalog/keyline.ts'
import type { TokenUsage } from '../catalog/outcomes.ts'
import type { EnvReader, EnvRecord } from '../env.ts'
import { readEnv } from '../env.ts'
import { KeylineError } from '../errors/keyline-error.ts'
import { durableEngine, isLimitsNamespace, type LimitsNamespace } from '../quota/durable-engine.ts'
import {
  type ClientLimits,
  type CounterEngine,
  type LimitCount,
  type LimitsTable,
  NO_LIMITS,
  parseClientLimits,
  type Take,
} from '../quota/limits.ts'
import { memoryEngine } from '../quota/memory-engine.ts'
import { storeReadOf } from '../secrets/stores/store-read.ts'
import {
  recordClientLimitsUnavailable,
  recordClientRequest,
  recordClientTokens,
} from '../telemetry/record.ts'
import { type ClientTokensSource, readTokensText } from './client-auth.ts'

/** What {@link ClientQuotas.middleware} puts on `c.var` for a client with a token quota. */
export interface ClientQuotaVariables {
  /** Charges a call's token usage to the client's quota (the provider call tells it). */
  clientUsage?: (usage: TokenUsage) => void
}

declare module 'hono' {
  interface ContextVariableMap extends ClientQuotaVariables {}
}

/** Options of {@link ClientQuotas}. */
export interface ClientQuotasOptions {
  /** How the request's environment is read. @default readEnv */
  env?: EnvReader
  /** Reads `KEYLINE_CLIENT_LIMITS_FILE` through the registry's cache (dropped on reload). @default none */
  files?: ClientTokensSource
  /**
   * Where the counters live: Redis for replicas (the server entries pass it with
   * `KEYLINE_REDIS_URL`). @default the `KEYLINE_LIMITS` Durable Object namespace when bound, else memory
   */
  engine?: CounterEngine
  /** Where the once-a-minute warning of an unavailable counter store goes. @default console.warn */
  warn?: (message: string) => void
  /** Longest wait for the counter store, in ms. @default 50 */
  budgetMs?: number
}

/** One limit as the status shows it. */
export interface LimitUsage {
  readonly limit: number
  readonly used: number
  readonly remaining: number
  readonly resetAt: string
}

/** One client with a quota in `GET /admin/keys/status`. */
export interface ClientQuotaStatus {
  /** Its limits and their current windows (`rpm`, `tpm`, `rpd`, `tpd`). */
  readonly limits: Readonly<Record<string, LimitUsage>>
  /** Requests refused today (UTC). */
  readonly refused: number
  /** Why the client is refused until its entry is fixed, when it is. */
  readonly blocked?: string
  /** Whether any client token has this name (a quota for no token limits nobody). */
  readonly known: boolean
  /** Why its counts are missing: the counter store's error. */
  readonly error?: string
}

/** The `limits` part of `GET /admin/keys/status`. */
export interface ClientLimitsStatus {
  /** Where the quotas were read from, `null` when none are configured. */
  readonly source: string | null
  readonly engine: CounterEngine['kind']
  /** `open`: served while the counter store fails; `closed`: refused with a 503. */
  readonly fail: 'open' | 'closed'
  /** Each malformed entry or unknown name, by its text. */
  readonly issues: readonly string[]
  /** Set when every named client is refused (an entry names no client, the file is unreadable). */
  readonly closed?: string
  readonly clients: Readonly<Record<string, ClientQuotaStatus>>
}

const MINUTE_MS = 60_000
const FILE_VARIABLE = `${CLIENT_LIMITS_VARIABLE}_FILE`

/** Whether `KEYLINE_CLIENT_LIMITS_FAIL` refuses while the counter store fails (anything but `open`). */
const failsClosed = (env: EnvRecord): boolean => {
  const mode = env[CLIENT_LIMITS_FAIL_VARIABLE]
  return typeof mode === 'string' && mode.trim() !== '' && mode.trim() !== 'open'
}

/**
 * Settles with `promise`, or with `undefined` once `ms` have passed and one more turn of the
 * event loop: an answer that arrived in time but waits behind the timer (a busy loop runs
 * timers before I/O) still counts.
 */
const withinBudget = <T>(promise: Promise<T>, ms: number): Promise<T | undefined> =>
  within(promise, ms).then((value) => (value === undefined ? within(promise, 0) : value))

/** Seconds until `at`, at least 1 and at most the window. */
const secondsUntil = (at: number, now: number, windowS: number): number =>
  Math.min(windowS, Math.max(1, Math.ceil((at - now) / 1000)))

/** The count the `keyline-ratelimit-*` headers show: the refusing limit, else the one nearest its end. */
const tightest = (take: Take): LimitCount | undefined => {
  let best: LimitCount | undefined
  for (const count of take.counts) {
    if (count.kind === take.refused) return count
    if (!best || count.used / count.limit > best.used / best.limit) best = count
  }
  return best
}

/**
 * Per-client quotas (`KEYLINE_CLIENT_LIMITS`): after {@link clientAuth} named the client, counts
 * its request in its limits before any upstream call, refuses it with a 429 when a limit is
 * reached, and charges the call's token usage after it. A client without limits costs one map
 * lookup; with no limits configured, one variable read.
 */
export class ClientQuotas {
  readonly #env: EnvReader
  readonly #files: ClientTokensSource | undefined
  readonly #given: CounterEngine | undefined
  readonly #memory = memoryEngine()
  readonly #objects = new WeakMap<LimitsNamespace, CounterEngine>()
  readonly #warn: (message: string) => void
  readonly #budgetMs: number
  #parsed: { raw: string; table: LimitsTable } | undefined
  #warnedAt = Number.NEGATIVE_INFINITY

  constructor(options: ClientQuotasOptions = {}) {
    this.#env = options.env ?? readEnv
    this.#files = options.files
    this.#given = options.engine
    this.#warn = options.warn ?? ((message) => console.warn(message))
    this.#budgetMs = options.budgetMs ?? 50
    if (!(this.#budgetMs > 0)) throw new TypeError('budgetMs must be a positive number')
  }

  /** The table of `text`, parsed once per text. */
  #tableOf(text: string): LimitsTable {
    if (this.#parsed?.raw !== text) this.#parsed = { raw: text, table: parseClientLimits(text) }
    return this.#parsed.table
  }

  /** The quotas `env` configures, with where they came from. */
  async #read(env: EnvRecord): Promise<{ table: LimitsTable; source: string | null }> {
    const read = await readTokensText(env, CLIENT_LIMITS_VARIABLE, this.#files)
    if (read.unreadable || read.storeError !== undefined) {
      const why =
        read.storeError ?? `${CLIENT_LIMITS_VARIABLE}_FILE names a file keyline cannot read`
      return { table: { clients: new Map(), issues: [why], closed: why }, source: read.source }
    }
    return { table: read.text ? this.#tableOf(read.text) : NO_LIMITS, source: read.source }
  }

  /** The table for a request: the variable's text in the common case, one string compare. */
  #tableFor(env: EnvRecord): LimitsTable | Promise<LimitsTable> {
    const direct = env[CLIENT_LIMITS_VARIABLE]
    if (typeof direct === 'string' && direct.trim() !== '') return this.#tableOf(direct)
    // Neither the variable, its file nor a store (whose failure leaves a read): no quotas.
    if (!env[FILE_VARIABLE] && !storeReadOf(env, CLIENT_LIMITS_VARIABLE)) return NO_LIMITS
    return this.#read(env).then((read) => read.table)
  }

  /** The engine of a request's environment. */
  engineOf(env: EnvRecord): CounterEngine {
    if (this.#given) return this.#given
    const binding = env[CLIENT_LIMITS_BINDING]
    if (!isLimitsNamespace(binding)) return this.#memory
    let engine = this.#objects.get(binding)
    if (!engine) {
      engine = durableEngine(binding)
      this.#objects.set(binding, engine)
    }
    return engine
  }

  #unavailable(engine: CounterEngine, error: unknown, closed: boolean): void {
    recordClientLimitsUnavailable()
    const now = Date.now()
    if (now - this.#warnedAt < MINUTE_MS) return
    this.#warnedAt = now
    const why = error instanceof Error ? error.message : `no answer within ${this.#budgetMs} ms`
    this.#warn(
      `keyline: client quotas: the ${engine.kind} counter store is unavailable (${why}); limited clients are ${closed ? 'refused with 503' : 'served unlimited'} while it is (this warning at most once a minute)`
    )
  }

  /** The middleware: mount it after `clientAuth` on every route a client token opens. */
  middleware(): MiddlewareHandler {
    const readRequestEnv = this.#env
    return async (c, next) => {
      const name = c.get('clientName')
      if (name === undefined) return next()
      const env = readRequestEnv(c)
      const found = this.#tableFor(env)
      const table = found instanceof Promise ? await found : found
      const client = table.clients.get(name)
      if (!client) {
        if (table.closed) throw closedError(table.closed)
        return next()
      }
      if (client.blocked) throw closedError(`${CLIENT_LIMITS_VARIABLE}: ${client.blocked}`)
      const engine = this.engineOf(env)
      const now = Date.now()
      const closed = failsClosed(env)
      const take = await withinBudget(engine.take(client, now), this.#budgetMs).catch((error) => {
        this.#unavailable(engine, error, closed)
        return null
      })
      if (!take) {
        if (take === undefined) this.#unavailable(engine, undefined, closed)
        if (closed) {
          throw new KeylineError(
            503,
            'limits_unavailable',
            `Client ${name} has a quota and its counter store is unavailable (${CLIENT_LIMITS_FAIL_VARIABLE} is closed): try again shortly`,
            { headers: { 'retry-after': '1' } }
          )
        }
        return next()
      }
      recordClientRequest(name, take.refused)
      const shown = tightest(take)
      if (shown) {
        const windowS = LIMIT_KINDS[shown.kind].windowS
        const reset = String(secondsUntil(shown.resetAt, now, windowS))
        c.header('keyline-ratelimit-limit', String(shown.limit))
        c.header('keyline-ratelimit-remaining', String(Math.max(0, shown.limit - shown.used)))
        c.header('keyline-ratelimit-reset', reset)
        if (take.refused) {
          const { unit } = LIMIT_KINDS[shown.kind]
          throw new KeylineError(
            429,
            'rate_limit_error',
            `Client ${name} reached its quota ${shown.kind}=${shown.limit} (${unit} per ${windowS === 60 ? 'minute' : 'day'}): retry after ${reset} s`,
            {
              details: { client: name, limit: shown.kind },
              headers: {
                'retry-after': reset,
                'keyline-ratelimit-limit': String(shown.limit),
                'keyline-ratelimit-remaining': '0',
                'keyline-ratelimit-reset': reset,
              },
            }
          )
        }
      }
      if (client.tokens) c.set('clientUsage', (usage) => this.#charge(c, engine, client, usage))
      await next()
    }
  }

  #charge(
    c: { executionCtx: { waitUntil(p: Promise<unknown>): void } },
    engine: CounterEngine,
    client: ClientLimits,
    usage: TokenUsage
  ): void {
    const tokens = usage.input + usage.output
    if (!(tokens > 0)) return
    recordClientTokens(client.name, tokens)
    const charged = engine
      .charge(client, tokens, Date.now())
      .catch((error: unknown) => this.#unavailable(engine, error, false))
    try {
      // Workers end a request's subrequests with its answer: the charge outlives a stream's end.
      c.executionCtx.waitUntil(charged)
    } catch {
      // no execution context (Node, Deno): the promise runs on by itself
    }
  }

  /** The `limits` part of the admin status: every client's windows, never a token. */
  async status(
    env: EnvRecord,
    tokenNames: Readonly<Record<string, number>>
  ): Promise<ClientLimitsStatus> {
    const { table, source } = await this.#read(env)
    const engine = this.engineOf(env)
    const now = Date.now()
    const clients: Record<string, ClientQuotaStatus> = {}
    const issues = [...table.issues]
    await Promise.all(
      [...table.clients.values()].map(async (client) => {
        const known = (tokenNames[client.name] ?? 0) > 0
        if (!known)
          issues.push(`${CLIENT_LIMITS_VARIABLE}: ${client.name} is the name of no client token`)
        if (client.blocked) {
          clients[client.name] = { limits: {}, refused: 0, blocked: client.blocked, known }
          return
        }
        const usage = await within(engine.usage(client, now), 1000).catch(() => undefined)
        const limits: Record<string, LimitUsage> = {}
        for (const limit of client.limits) {
          const count = usage?.counts.find((c) => c.kind === limit.kind)
          const used = count?.used ?? 0
          limits[limit.kind] = {
            limit: limit.limit,
            used,
            remaining: Math.max(0, limit.limit - used),
            resetAt: new Date(count?.resetAt ?? now).toISOString(),
          }
        }
        clients[client.name] = {
          limits,
          refused: usage?.refused ?? 0,
          known,
          ...(usage ? {} : { error: `the ${engine.kind} counter store did not answer` }),
        }
      })
    )
    return {
      source,
      engine: engine.kind,
      fail: failsClosed(env) ? 'closed' : 'open',
      issues:
        failsClosed(env) && env[CLIENT_LIMITS_FAIL_VARIABLE] !== 'closed'
          ? [...issues, `${CLIENT_LIMITS_FAIL_VARIABLE} must be open or closed: taken as closed`]
          : issues,
      ...(table.closed ? { closed: table.closed } : {}),
      clients,
    }
  }
}

/** The 503 of a client whose quota cannot be read: refused, never served unlimited. */
const closedError = (why: string): KeylineError =>
  new KeylineError(
    503,
    'limits_misconfigured',
    `This client's quota is misconfigured, so it is refused until it is fixed: ${why}`
  )

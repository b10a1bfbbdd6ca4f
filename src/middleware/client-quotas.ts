import type { Context } from 'hono'
import { within } from '../bounded-wait.ts'
import {
  CLIENT_LIMITS_BINDING,
  CLIENT_LIMITS_FAIL_VARIABLE,
  CLIENT_LIMITS_VARIABLE,
  LIMIT_KINDS,
  type LimitKind,
} from '../catalog/keyline.ts'
import type { TokenUsage } from '../catalog/outcomes.ts'
import type { EnvReader, EnvRecord } from '../env.ts'
import { readEnv } from '../env.ts'
import { KeylineError } from '../errors/keyline-error.ts'
import { durableEngine, type LimitsNamespace } from '../quota/durable-engine.ts'
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

/** What {@link ClientQuotas.check} puts on `c.var` for a client with a token quota. */
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
}

/** One client with a quota in `GET /admin/keys/status`. */
export interface ClientQuotaStatus {
  /** Each limit and its current window (`resetAt` in epoch ms), then `refused`: today's refusals. */
  readonly counts: readonly LimitCount[]
  /** Why the client is refused until its entry is fixed, when it is. */
  readonly blocked?: string
  /** Why its counts are missing: the counter store did not answer. */
  readonly error?: string
}

/** The `limits` part of `GET /admin/keys/status`. */
export interface ClientLimitsStatus {
  /** Where the quotas were read from, `null` when none are configured. */
  readonly source: string | null
  readonly engine: CounterEngine['kind']
  /** `open`: served while the counter store fails; `closed`: refused with a 503. */
  readonly fail: 'open' | 'closed'
  /** Each malformed entry, and each name no client token has. */
  readonly issues: readonly string[]
  /** Set when every client is refused (an entry names no client, the file is unreadable). */
  readonly closed?: string
  readonly clients: Readonly<Record<string, ClientQuotaStatus>>
}

const FILE_VARIABLE = `${CLIENT_LIMITS_VARIABLE}_FILE`

/** The longest a request waits for the counter store (ms). */
const BUDGET_MS = 50

/** The 503 of a request its quota cannot be applied to: refused, never served unlimited. */
const unavailable = (message: string, headers?: Record<string, string>): KeylineError =>
  new KeylineError(503, 'limits_unavailable', message, { headers })

/** The count the `keyline-ratelimit-*` headers show: the refusing limit, else the fullest. */
const shownCount = (take: Take): LimitCount =>
  take.counts
    .slice(0, -1)
    .reduce((best, count) =>
      best.kind === take.refused ||
      (count.kind !== take.refused && count.used / count.limit <= best.used / best.limit)
        ? best
        : count
    )

/**
 * Per-client quotas (`KEYLINE_CLIENT_LIMITS`): after `clientAuth` named the client, counts its
 * request in its limits before any upstream call, refuses it with a 429 once a limit is used up,
 * and charges the call's token usage after it. A client without limits costs a map lookup; no
 * quotas configured, a variable read.
 */
export class ClientQuotas {
  readonly #env: EnvReader
  readonly #files: ClientTokensSource | undefined
  readonly #given: CounterEngine | undefined
  readonly #memory = memoryEngine()
  readonly #objects = new WeakMap<LimitsNamespace, CounterEngine>()
  readonly #warn: (message: string) => void
  #parsed: [text: string, table: LimitsTable] | undefined
  #warnedAt = -1e15

  constructor(options: ClientQuotasOptions = {}) {
    this.#env = options.env ?? readEnv
    this.#files = options.files
    this.#given = options.engine
    this.#warn = options.warn ?? console.warn
  }

  /** The quotas `env` configures (parsed once per text), with where they came from. */
  async #read(env: EnvRecord): Promise<[LimitsTable, source: string | null]> {
    const read = await readTokensText(env, CLIENT_LIMITS_VARIABLE, this.#files)
    const why = read.unreadable ? `${CLIENT_LIMITS_VARIABLE}_FILE cannot be read` : read.storeError
    return [
      why ? { clients: new Map(), issues: [why], closed: why } : this.#table(read.text),
      read.source,
    ]
  }

  #table(text: string | undefined): LimitsTable {
    if (!text) return NO_LIMITS
    if (this.#parsed?.[0] !== text) this.#parsed = [text, parseClientLimits(text)]
    return this.#parsed[1]
  }

  /** The engine of a request's environment. */
  #engineOf(env: EnvRecord): CounterEngine {
    const binding = env[CLIENT_LIMITS_BINDING] as LimitsNamespace | undefined
    if (this.#given || typeof binding?.idFromName !== 'function') return this.#given ?? this.#memory
    let engine = this.#objects.get(binding)
    if (!engine) {
      engine = durableEngine(binding)
      this.#objects.set(binding, engine)
    }
    return engine
  }

  /** Counts a request the counter store did not answer; warns at most once a minute. */
  #unavailable(engine: CounterEngine, error?: unknown): void {
    recordClientLimitsUnavailable()
    const now = Date.now()
    if (now - this.#warnedAt < 60_000) return
    this.#warnedAt = now
    this.#warn(
      `keyline: client quotas: the ${engine.kind} counter store is unavailable (${error instanceof Error ? error.message : `no answer in ${BUDGET_MS} ms`}); warned once a minute`
    )
  }

  /**
   * Applies `name`'s quota to a request, before anything goes upstream: `undefined` at once for
   * a client without limits (no promise, nothing allocated), else a promise that rejects with
   * the 429 (or 503) or resolves once the request is counted. `clientAuth` calls it
   * (`onClient`) as soon as it knows the client.
   */
  check(c: Context, name: string): Promise<void> | undefined {
    const env = this.#env(c)
    const value = env[CLIENT_LIMITS_VARIABLE]
    // Blank is unset (as `readTokensText` and `status()` read it): an empty
    // `KEYLINE_CLIENT_LIMITS=` must not hide the limits of the file or a store.
    const direct = typeof value === 'string' && value.trim() !== '' ? value : undefined
    // The common case is one string compare; a file or a store is read through its cache.
    if (direct === undefined && (env[FILE_VARIABLE] || storeReadOf(env, CLIENT_LIMITS_VARIABLE))) {
      return this.#read(env).then(([table]) => this.#apply(c, env, name, table))
    }
    const table = this.#table(direct)
    return table.clients.has(name) || table.closed ? this.#apply(c, env, name, table) : undefined
  }

  async #apply(c: Context, env: EnvRecord, name: string, table: LimitsTable): Promise<void> {
    const client = table.clients.get(name)
    if (!client) {
      if (table.closed) throw unavailable(table.closed)
      return
    }
    if (client.blocked) throw unavailable(client.blocked)
    const engine = this.#engineOf(env)
    const now = Date.now()
    const taking = engine.take(client, now)
    const take = await within(taking, BUDGET_MS)
      // An answer that came in time but waits behind the timer (timers run before I/O) counts.
      .then((found) => found ?? within(taking, 0))
      .catch((error: unknown) => {
        this.#unavailable(engine, error)
        return null
      })
    if (!take) {
      if (take === undefined) this.#unavailable(engine)
      if (env[CLIENT_LIMITS_FAIL_VARIABLE] === 'closed') {
        throw unavailable(
          `Client ${name} has a quota and its counter store is unavailable (${CLIENT_LIMITS_FAIL_VARIABLE} is closed)`,
          { 'retry-after': '1' }
        )
      }
      return
    }
    recordClientRequest(name, take.refused)
    const shown = shownCount(take)
    const windowS = LIMIT_KINDS[shown.kind as LimitKind]
    const reset = String(Math.min(windowS, Math.max(1, Math.ceil((shown.resetAt - now) / 1000))))
    const headers: Record<string, string> = {
      'keyline-ratelimit-limit': String(shown.limit),
      'keyline-ratelimit-remaining': String(Math.max(0, shown.limit - shown.used)),
      'keyline-ratelimit-reset': reset,
    }
    if (take.refused) {
      throw new KeylineError(
        429,
        'rate_limit_error',
        `Client ${name} reached its quota ${shown.kind}=${shown.limit} (${shown.kind[0] === 'r' ? 'requests' : 'tokens'} per ${windowS > 60 ? 'day' : 'minute'}): retry after ${reset} s`,
        { headers: { ...headers, 'retry-after': reset } }
      )
    }
    for (const header in headers) c.header(header, headers[header])
    if (client.tokens) c.set('clientUsage', (usage) => this.#charge(c, engine, client, usage))
  }

  #charge(
    c: { executionCtx: { waitUntil(p: Promise<unknown>): void } },
    engine: CounterEngine,
    client: ClientLimits,
    usage: TokenUsage
  ): void {
    const tokens = usage.input + usage.output
    recordClientTokens(client.name, tokens)
    const charged = engine
      .charge(client, tokens, Date.now())
      .catch((error: unknown) => this.#unavailable(engine, error))
    try {
      // Workers end a request's subrequests with its answer: the charge outlives a stream's end.
      c.executionCtx.waitUntil(charged)
    } catch {
      // no execution context (Node, Deno): the promise runs on by itself
    }
  }

  /** The `limits` part of the admin status; `tokens` are the client tokens' names and counts. */
  async status(
    env: EnvRecord,
    tokens: Readonly<Record<string, number>>
  ): Promise<ClientLimitsStatus> {
    const [table, source] = await this.#read(env)
    const engine = this.#engineOf(env)
    const issues = [...table.issues]
    const clients: Record<string, ClientQuotaStatus> = {}
    for (const client of table.clients.values()) {
      if (!tokens[client.name]) {
        issues.push(`${CLIENT_LIMITS_VARIABLE}: no client token is named ${client.name}`)
      }
      const usage =
        client.blocked ||
        (await within(engine.usage(client, Date.now()), 1000).catch(() => undefined))
      clients[client.name] =
        typeof usage === 'object'
          ? usage
          : usage
            ? { counts: [], blocked: usage }
            : { counts: [], error: 'no answer from the counter store' }
    }
    return {
      source,
      engine: engine.kind,
      fail: env[CLIENT_LIMITS_FAIL_VARIABLE] === 'closed' ? 'closed' : 'open',
      issues: /^(open|closed)?$/.test(String(env[CLIENT_LIMITS_FAIL_VARIABLE] ?? ''))
        ? issues
        : [...issues, `${CLIENT_LIMITS_FAIL_VARIABLE} is neither open nor closed: taken as open`],
      ...(table.closed && { closed: table.closed }),
      clients,
    }
  }
}

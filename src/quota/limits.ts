/**
 * The per-client quotas `KEYLINE_CLIENT_LIMITS` configures, parsed once per text (a new text
 * comes with a reload, a new `_FILE` or store value), and what a counter engine answers.
 */
import { CLIENT_LIMITS_VARIABLE, LIMIT_KINDS, type LimitKind } from '../catalog/keyline.ts'

/** One limit of a client: at most `limit` requests or tokens per fixed window. */
export interface Limit {
  /** The limit, or `refused` for the count of refusals (a day window). */
  readonly kind: LimitKind | 'refused'
  readonly limit: number
  readonly windowMs: number
  /** Whether it counts requests (`rpm`, `rpd`), else tokens. */
  readonly requests: boolean
}

/**
 * What a client may do: its limits in the order of {@link LIMIT_KINDS}, or `blocked` (its entry
 * is malformed: it is refused with a 503 until the entry is fixed, never silently unlimited).
 */
export interface ClientLimits {
  readonly name: string
  readonly limits: readonly Limit[]
  /** Whether any limit counts tokens: only then is the call's usage charged. */
  readonly tokens: boolean
  readonly blocked?: string
}

/** The parsed `KEYLINE_CLIENT_LIMITS`. */
export interface LimitsTable {
  readonly clients: ReadonlyMap<string, ClientLimits>
  /**
   * Set when no entry can be trusted (an entry names no client, the file or store gave no
   * value): every client is refused with a 503 saying this.
   */
  readonly closed?: string
  /** Each malformed entry, by its text (cut to 80 characters), for the status. */
  readonly issues: readonly string[]
}

/** No limits: what an unset variable gives. */
export const NO_LIMITS: LimitsTable = { clients: new Map(), issues: [] }

const NAME = /^[A-Za-z][\w.-]{0,63}$/
const LIMIT = /^(rpm|tpm|rpd|tpd)=([1-9]\d{0,11})$/
const ORDER = Object.keys(LIMIT_KINDS)

/**
 * Parses `name:rpm=N[:tpm=N][:rpd=N][:tpd=N]` entries, comma- or newline-separated. An entry
 * with a client name but a malformed limit (or a name given twice) blocks that client; an entry
 * with no client name closes every client. Never throws.
 */
export const parseClientLimits = (raw: string): LimitsTable => {
  const clients = new Map<string, ClientLimits>()
  const issues: string[] = []
  let closed: string | undefined
  for (const entry of raw.split(/[,\n]/)) {
    const [name = '', ...parts] = entry.trim().split(':')
    if (!name) continue
    const found = parts.map((part) => LIMIT.exec(part.trim()))
    const limits = found
      .map((m) => m && limitOf(m[1] as LimitKind, +(m[2] as string)))
      .sort((a, b) => ORDER.indexOf(a?.kind as string) - ORDER.indexOf(b?.kind as string))
    const named = NAME.test(name)
    if (
      named &&
      !clients.has(name) &&
      found.length &&
      found.every(Boolean) &&
      new Set(limits.map((l) => l?.kind)).size === found.length
    ) {
      clients.set(name, {
        name,
        limits: limits as Limit[],
        tokens: limits.some((l) => !l?.requests),
      })
      continue
    }
    const why = `${CLIENT_LIMITS_VARIABLE}: entry "${entry.trim().slice(0, 80)}" is not name:rpm=N[:tpm=N][:rpd=N][:tpd=N] (N from 1, each once, a name once)`
    issues.push(why)
    if (named) clients.set(name, { name, limits: [], tokens: false, blocked: why })
    else closed ??= why
  }
  return { clients, issues, ...(closed && { closed }) }
}

const limitOf = (kind: Limit['kind'], limit: number): Limit => ({
  kind,
  limit,
  windowMs: (kind === 'refused' ? 86_400 : LIMIT_KINDS[kind]) * 1000,
  requests: kind[0] === 'r',
})

/** The count of refusals, over a day. */
export const REFUSED: Limit = limitOf('refused', 0)

/** One limit's count in its current window, as an engine answers it. */
export interface LimitCount {
  readonly kind: Limit['kind']
  readonly limit: number
  /** Requests taken or tokens charged in the current window (a refused request not counted). */
  readonly used: number
  /** When the current window ends (epoch ms). */
  readonly resetAt: number
}

/** What a counter engine answers: the limit that refuses the request, and every count. */
export interface Take {
  /** The limit that refuses the request, or `undefined` when it may go. */
  readonly refused?: LimitKind
  /** Every limit's count (the request included when it was taken), then the day's refusals. */
  readonly counts: readonly LimitCount[]
}

/**
 * Where the counters live: memory (one instance), Redis (replicas), a Durable Object (Workers).
 * Each operation is one atomic step (one round trip at most).
 */
export interface CounterEngine {
  readonly kind: 'memory' | 'redis' | 'durable-object'
  /**
   * Counts one request of `client` in its request limits when no limit is used up (a request
   * limit at N requests, a token limit at N tokens or more); a refused request counts only as a
   * refusal.
   */
  take(client: ClientLimits, now: number): Promise<Take>
  /** Adds `tokens` to the client's token limits. */
  charge(client: ClientLimits, tokens: number, now: number): Promise<unknown>
  /** The client's counts now, the day's refusals last (no request counted). */
  usage(client: ClientLimits, now: number): Promise<Take>
}

/** The index of the window holding `now`, part of every counter's key. */
export const windowIndex = (limit: Limit, now: number): number => Math.floor(now / limit.windowMs)

/** The count of `limit` at `used` (its window aligned to the UTC epoch). */
export const countOf = (limit: Limit, used: number, now: number): LimitCount => ({
  kind: limit.kind,
  limit: limit.limit,
  used,
  resetAt: (windowIndex(limit, now) + 1) * limit.windowMs,
})

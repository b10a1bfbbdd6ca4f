/**
 * The per-client quotas `KEYLINE_CLIENT_LIMITS` configures, parsed once per text (a new text
 * comes with a reload, a new `_FILE` or store value), and what a counter engine answers.
 */
import {
  CLIENT_LIMITS_VARIABLE,
  CLIENT_NAME,
  LIMIT_KINDS,
  type LimitKind,
} from '../catalog/keyline.ts'

/** One limit of a client: at most `limit` requests or tokens per fixed window. */
export interface Limit {
  readonly kind: LimitKind
  /** The counter's name in its store: the kind, `refused` for the refusal count. */
  readonly key: string
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
   * value): every named client is refused with a 503 saying this.
   */
  readonly closed?: string
  /** Each malformed entry, by its text (cut to 80 characters), for the status and the log. */
  readonly issues: readonly string[]
}

/** No limits: what an unset variable gives. */
export const NO_LIMITS: LimitsTable = { clients: new Map(), issues: [] }

const ENTRY_LIMIT = /^(rpm|tpm|rpd|tpd)=([1-9][0-9]{0,11})$/

const limitOf = (kind: LimitKind, limit: number, key: string = kind): Limit => ({
  kind,
  key,
  limit,
  windowMs: LIMIT_KINDS[kind].windowS * 1000,
  requests: LIMIT_KINDS[kind].unit === 'requests',
})

const order = Object.keys(LIMIT_KINDS) as LimitKind[]

/**
 * Parses `name:rpm=N[:tpm=N][:rpd=N][:tpd=N]` entries, comma- or newline-separated. An entry
 * with a client name but a malformed limit (or a name given twice) blocks that client; an entry
 * with no client name closes every named client. Never throws.
 */
export const parseClientLimits = (raw: string | undefined): LimitsTable => {
  const entries = (raw ?? '')
    .split(/[,\n]/)
    .map((entry) => entry.trim())
    .filter(Boolean)
  const clients = new Map<string, ClientLimits>()
  const issues: string[] = []
  let closed: string | undefined
  for (const entry of entries) {
    const [name = '', ...parts] = entry.split(':').map((part) => part.trim())
    const shown = entry.slice(0, 80)
    const bad = (why: string): void => {
      issues.push(`${CLIENT_LIMITS_VARIABLE}: entry "${shown}": ${why}`)
      if (CLIENT_NAME.test(name)) {
        clients.set(name, { name, limits: [], tokens: false, blocked: `${shown}: ${why}` })
      } else closed ??= `${CLIENT_LIMITS_VARIABLE} has an entry naming no client ("${shown}")`
    }
    if (!CLIENT_NAME.test(name)) {
      bad('it must start with a client name (a letter, then letters, digits, ., _ or -)')
      continue
    }
    if (clients.has(name)) {
      bad(`${name} is given twice`)
      continue
    }
    const found = new Map<LimitKind, number>()
    const wrong = parts.find((part) => {
      const match = ENTRY_LIMIT.exec(part)
      if (!match || found.has(match[1] as LimitKind)) return true
      found.set(match[1] as LimitKind, Number(match[2]))
      return false
    })
    if (wrong !== undefined || found.size === 0) {
      bad(
        wrong === undefined
          ? 'it gives no limit'
          : `"${wrong.slice(0, 40)}" is not rpm=N, tpm=N, rpd=N or tpd=N (N a whole number from 1), each once`
      )
      continue
    }
    const limits = order.filter((k) => found.has(k)).map((k) => limitOf(k, found.get(k) as number))
    clients.set(name, { name, limits, tokens: limits.some((l) => !l.requests) })
  }
  return closed === undefined ? { clients, issues } : { clients, issues, closed }
}

/** One limit's count in its current window, as an engine answers it. */
export interface LimitCount {
  readonly kind: LimitKind
  readonly limit: number
  /** Requests taken or tokens charged in the current window (a refused request not counted). */
  readonly used: number
  /** When the current window ends (epoch ms). */
  readonly resetAt: number
}

/** What a counter engine answers for one request of a limited client. */
export interface Take {
  /** The limit that refuses the request, or `undefined` when it may go. */
  readonly refused?: LimitKind
  /** Every limit's count, the request included when it was taken. */
  readonly counts: readonly LimitCount[]
}

/** A client's usage, as the admin status shows it. */
export interface ClientUsage {
  readonly counts: readonly LimitCount[]
  /** Requests refused today (UTC). */
  readonly refused: number
}

/**
 * Where the counters live: memory (one instance), Redis (replicas), a Durable Object (Workers).
 * Each operation is one atomic step (one round trip at most).
 */
export interface CounterEngine {
  readonly kind: 'memory' | 'redis' | 'durable-object'
  /**
   * Counts one request of `client` when every limit allows it: a request limit while a request
   * fits, a token limit while what was used stays under it. A refused request counts nothing
   * but the day's refusals.
   */
  take(client: ClientLimits, now: number): Promise<Take>
  /** Adds `tokens` to the client's token limits. */
  charge(client: ClientLimits, tokens: number, now: number): Promise<void>
  /** The client's counts now, for the status. */
  usage(client: ClientLimits, now: number): Promise<ClientUsage>
}

/** When the window of `limit` that holds `now` ends (windows are aligned to the UTC epoch). */
export const windowEnd = (limit: Limit, now: number): number =>
  (Math.floor(now / limit.windowMs) + 1) * limit.windowMs

/** The index of the window holding `now`, part of every counter's key. */
export const windowIndex = (limit: Limit, now: number): number => Math.floor(now / limit.windowMs)

/** The day window the refusal counter uses. */
export const REFUSED_WINDOW: Limit = limitOf('rpd', 1, 'refused')

/** Whether a limit refuses one more request, given what it counted so far. */
export const refuses = (limit: Limit, used: number): boolean =>
  limit.requests ? used + 1 > limit.limit : used >= limit.limit

import { UNREDACTABLE } from '../redact/markers.ts'
import { createRedactor, type Redactor } from '../redact/redactor.ts'
import type { RedactedValue } from '../redact/types.ts'
import { setKey } from '../redact/walk-context.ts'
import { type LineLevel, LOG_LEVELS, type LogLevel, type LogRecord } from './record.ts'
import { consoleSink, type LogSink } from './sink.ts'

export { type LineLevel, LOG_LEVELS, type LogLevel, type LogRecord }

/** The level used when `LOG_LEVEL` is unset or invalid. */
export const DEFAULT_LOG_LEVEL: LogLevel = 'info'

const RANK: Record<LogLevel, number> = { debug: 10, info: 20, warn: 30, error: 40, silent: 100 }

/**
 * Reads a `LOG_LEVEL` value: `debug`, `info`, `warn`, `error` or `silent`, in any case and with
 * surrounding spaces. Anything else, including a missing value, is {@link DEFAULT_LOG_LEVEL}.
 */
export const parseLogLevel = (value: unknown): LogLevel => {
  if (typeof value !== 'string') return DEFAULT_LOG_LEVEL
  const level = value.trim().toLowerCase()
  return (LOG_LEVELS as readonly string[]).includes(level) ? (level as LogLevel) : DEFAULT_LOG_LEVEL
}

/** Whether a line of `line` level is written when the threshold is `threshold`. */
export const isLevelEnabled = (threshold: LogLevel, line: LineLevel): boolean =>
  RANK[line] >= RANK[threshold]

/** Extra fields of a log line, e.g. `request_id`, `method`, `route`, `status`, `duration_ms`. */
export type LogFields = Record<string, unknown>

/** A redactor, or a function returning the current one (secrets rotate). */
export type RedactorSource = Redactor | (() => Redactor)

/** Options of {@link createLogger}. */
export interface LoggerOptions {
  /**
   * The least severe level written: a `LOG_LEVEL` value; an invalid one means `info`.
   * @default 'info'
   */
  level?: string
  /**
   * Applied to every field of every line, `msg` included. When a redactor function throws, the
   * line is written as `msg: "[UNREDACTABLE]"` with no fields: nothing unredacted goes out.
   * @default createRedactor() — no known secrets, sensitive headers and parameters still masked
   */
  redactor?: RedactorSource
  /** Where lines go. @default consoleSink() */
  sink?: LogSink
  /** Fields added to every line. @default {} */
  fields?: LogFields
  /** The clock for `time`, in epoch milliseconds. @default Date.now */
  now?: () => number
}

/** Writes structured, redacted log lines. Never throws. */
export interface Logger {
  /** The threshold this logger was created with. */
  readonly level: LogLevel
  /** Whether a line of `level` would be written. */
  enabled(level: LineLevel): boolean
  /** Writes a line of `level`. `level`, `time` and `msg` cannot be overridden by `fields`. */
  log(level: LineLevel, msg: string, fields?: LogFields): void
  /** Writes a `debug` line. */
  debug(msg: string, fields?: LogFields): void
  /** Writes an `info` line. */
  info(msg: string, fields?: LogFields): void
  /** Writes a `warn` line. */
  warn(msg: string, fields?: LogFields): void
  /** Writes an `error` line. */
  error(msg: string, fields?: LogFields): void
  /** A logger adding `fields` to every line, optionally with another redactor (per request). */
  child(fields?: LogFields, redactor?: RedactorSource): Logger
}

const CORE = new Set(['level', 'time', 'msg'])

let fallbackRedactor: Redactor | undefined
const defaultRedactor = (): Redactor => {
  fallbackRedactor ??= createRedactor()
  return fallbackRedactor
}

/** The redactor to use now; `undefined` when a redactor function failed (log nothing then). */
const currentRedactor = (source: RedactorSource | undefined): Redactor | undefined => {
  if (source === undefined) return defaultRedactor()
  try {
    return typeof source === 'function' ? source() : source
  } catch {
    return undefined
  }
}

/** The last time formatted, and its millisecond: lines in the same millisecond share it. */
let lastTime = { ms: Number.NaN, iso: '' }

const isoTime = (now: () => number): string => {
  try {
    const ms = now()
    if (ms === lastTime.ms) return lastTime.iso
    const iso = new Date(ms).toISOString()
    lastTime = { ms, iso }
    return iso
  } catch {
    return new Date().toISOString()
  }
}

/** What every logger of one {@link createLogger} call shares. */
interface LoggerShared {
  readonly level: LogLevel
  readonly sink: LogSink
  readonly now: () => number
}

/**
 * One logger: its fields and redactor over what its family shares. A class, so that a child per
 * request (the access log's) costs one small object, not a set of closures.
 */
class StructuredLogger implements Logger {
  readonly #shared: LoggerShared
  readonly #base: LogFields
  readonly #source: RedactorSource | undefined

  constructor(shared: LoggerShared, base: LogFields, source: RedactorSource | undefined) {
    this.#shared = shared
    this.#base = base
    this.#source = source
  }

  get level(): LogLevel {
    return this.#shared.level
  }

  enabled(line: LineLevel): boolean {
    return isLevelEnabled(this.#shared.level, line)
  }

  log(line: LineLevel, msg: string, fields?: LogFields): void {
    const { level, sink, now } = this.#shared
    if (!isLevelEnabled(level, line)) return
    let record: LogRecord
    try {
      const redactor = currentRedactor(this.#source)
      if (!redactor) throw new TypeError('no redactor')
      const redacted = redactor.redact({
        ...this.#base,
        ...fields,
        msg: typeof msg === 'string' ? msg : String(msg),
      })
      record = { level: line, time: isoTime(now), msg: UNREDACTABLE }
      if (redacted && typeof redacted === 'object' && !Array.isArray(redacted)) {
        const fieldsOut = redacted as Record<string, RedactedValue>
        record.msg = typeof fieldsOut.msg === 'string' ? fieldsOut.msg : UNREDACTABLE
        for (const key of Object.keys(fieldsOut)) {
          if (!CORE.has(key)) setKey(record, key, fieldsOut[key] as RedactedValue)
        }
      }
    } catch {
      record = { level: line, time: isoTime(now), msg: UNREDACTABLE }
    }
    try {
      sink(record)
    } catch {
      // A failing sink must not fail the request; there is nowhere safe left to report it.
    }
  }

  debug(msg: string, fields?: LogFields): void {
    this.log('debug', msg, fields)
  }

  info(msg: string, fields?: LogFields): void {
    this.log('info', msg, fields)
  }

  warn(msg: string, fields?: LogFields): void {
    this.log('warn', msg, fields)
  }

  error(msg: string, fields?: LogFields): void {
    this.log('error', msg, fields)
  }

  child(fields: LogFields = {}, redactor?: RedactorSource): Logger {
    let base = this.#base
    for (const _ in fields) {
      base = { ...this.#base, ...fields }
      break
    }
    return new StructuredLogger(this.#shared, base, redactor ?? this.#source)
  }
}

/**
 * Creates a structured JSON logger: each line is `{level, time, msg, ...fields}` with every
 * field (and `msg`) redacted, written to the sink when its level is enabled.
 */
export const createLogger = (options: LoggerOptions = {}): Logger =>
  new StructuredLogger(
    {
      level: parseLogLevel(options.level),
      sink: options.sink ?? consoleSink(),
      now: options.now ?? Date.now,
    },
    { ...options.fields },
    options.redactor
  )

/** Every `LOG_LEVEL` value, quietest last. */
export const LOG_LEVELS = ['debug', 'info', 'warn', 'error', 'silent'] as const

/** A `LOG_LEVEL` value: the least severe level written, or `silent` for none. */
export type LogLevel = (typeof LOG_LEVELS)[number]

/** The level of one log line. */
export type LineLevel = Exclude<LogLevel, 'silent'>

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

/** What one log line is: its level and its redacted fields. */
import type { RedactedValue } from '../redact/types.ts'

/** Every `LOG_LEVEL` value, quietest last. */
export const LOG_LEVELS = ['debug', 'info', 'warn', 'error', 'silent'] as const

/** A `LOG_LEVEL` value: the least severe level written, or `silent` for none. */
export type LogLevel = (typeof LOG_LEVELS)[number]

/** The level of one log line. */
export type LineLevel = Exclude<LogLevel, 'silent'>

/** One structured log line, already redacted: `level`, `time` (ISO 8601), `msg`, then fields. */
export interface LogRecord {
  level: LineLevel
  time: string
  msg: string
  [field: string]: RedactedValue
}

import type { RedactedValue } from '../redact/types.ts'
import type { LineLevel } from './level.ts'

/** Extra fields of a log line, e.g. `request_id`, `method`, `route`, `status`, `duration_ms`. */
export type LogFields = Record<string, unknown>

/** One structured log line, already redacted: `level`, `time` (ISO 8601), `msg`, then fields. */
export interface LogRecord {
  level: LineLevel
  time: string
  msg: string
  [field: string]: RedactedValue
}

import type { LogRecord } from './record.ts'

/** Where log lines go. It receives each line as a redacted plain object. */
export type LogSink = (record: LogRecord) => void

/** Options of {@link consoleSink}. */
export interface ConsoleSinkOptions {
  /**
   * Hand the object itself to the console (Workers Logs then indexes its fields) instead of one
   * JSON string per line.
   * @default isWorkersRuntime()
   */
  workers?: boolean
  /** The console to write to. @default globalThis.console */
  console?: Pick<Console, 'log' | 'error'>
}

/** Whether the code runs on Cloudflare Workers (`navigator.userAgent === 'Cloudflare-Workers'`). */
export const isWorkersRuntime = (): boolean => {
  try {
    return globalThis.navigator?.userAgent === 'Cloudflare-Workers'
  } catch {
    return false
  }
}

/**
 * The default sink: `debug` and `info` lines to `console.log`, `warn` and `error` lines to
 * `console.error`. On Workers the record object itself is passed, elsewhere one JSON string.
 */
export const consoleSink = (options: ConsoleSinkOptions = {}): LogSink => {
  const workers = options.workers ?? isWorkersRuntime()
  return (record) => {
    const target = options.console ?? globalThis.console
    const write = record.level === 'warn' || record.level === 'error' ? target.error : target.log
    write.call(target, workers ? record : JSON.stringify(record))
  }
}

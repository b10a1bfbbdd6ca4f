import { isWorkersRuntime } from '../runtime.ts'
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

/** Options of {@link batchedSink}. */
export interface BatchedSinkOptions {
  /** Writes `debug` and `info` lines (one string of whole lines). */
  out: (text: string) => void
  /** Writes `warn` and `error` lines. @default `out` */
  err?: (text: string) => void
  /**
   * Lines gathered before they are written at once, whatever the time.
   * @default 256
   */
  maxLines?: number
}

/** A sink that gathers lines and writes them together; `flush()` writes what is gathered now. */
export type BatchedSink = LogSink & { flush(): void }

/**
 * A sink for a server under load: each record becomes one JSON line, and the lines of one turn
 * of the event loop are written with one call (one system call instead of one per line),
 * within a timer tick or every `maxLines`. Call `flush()` before the process exits.
 */
export const batchedSink = (options: BatchedSinkOptions): BatchedSink => {
  const maxLines = options.maxLines ?? 256
  const err = options.err ?? options.out
  let out = ''
  let errors = ''
  let lines = 0
  let timer: ReturnType<typeof setTimeout> | undefined
  const flush = (): void => {
    if (timer !== undefined) clearTimeout(timer)
    timer = undefined
    lines = 0
    if (out) {
      const text = out
      out = ''
      options.out(text)
    }
    if (errors) {
      const text = errors
      errors = ''
      err(text)
    }
  }
  const sink = (record: LogRecord): void => {
    const line = `${JSON.stringify(record)}\n`
    if (record.level === 'warn' || record.level === 'error') errors += line
    else out += line
    if (++lines >= maxLines) flush()
    else timer ??= setTimeout(flush, 0)
  }
  return Object.assign(sink, { flush })
}

/** Receives one structured log line (audit lines and failed admin attempts); never a secret. */
export type AdminLogger = (line: Record<string, unknown>) => void

/** Writes the line as one JSON line on the console. */
export const consoleJsonLogger: AdminLogger = (line) => {
  console.log(JSON.stringify(line))
}

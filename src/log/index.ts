/** Structured, redacted JSON logging and the access-log middleware. */
export { type AccessLogOptions, accessLog } from './access-log.ts'
export {
  DEFAULT_LOG_LEVEL,
  isLevelEnabled,
  type LineLevel,
  LOG_LEVELS,
  type LogLevel,
  parseLogLevel,
} from './level.ts'
export { createLogger, type Logger, type LoggerOptions, type RedactorSource } from './logger.ts'
export type { LogFields, LogRecord } from './record.ts'
export { type ConsoleSinkOptions, consoleSink, isWorkersRuntime, type LogSink } from './sink.ts'

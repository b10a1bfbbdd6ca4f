/** Structured, redacted JSON logging and the access-log middleware. */

export { isWorkersRuntime } from '../runtime.ts'
export { type AccessLogOptions, accessLog } from './access-log.ts'
export {
  createLogger,
  DEFAULT_LOG_LEVEL,
  isLevelEnabled,
  type LineLevel,
  LOG_LEVELS,
  type LogFields,
  type Logger,
  type LoggerOptions,
  type LogLevel,
  type LogRecord,
  parseLogLevel,
  type RedactorSource,
} from './logger.ts'
export { type ConsoleSinkOptions, consoleSink, type LogSink } from './sink.ts'

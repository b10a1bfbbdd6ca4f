/** What a redactor returns: plain data, safe for `JSON.stringify` (no cycles, no bigint). */
export type RedactedValue =
  | string
  | number
  | boolean
  | null
  | undefined
  | RedactedValue[]
  | { [key: string]: RedactedValue }

/** An error as a redactor returns it: plain fields, every one redacted. */
export interface RedactedError {
  name: string
  message: string
  /** Present unless the redactor drops stacks ({@link RedactorOptions.stacks}). */
  stack?: string
  cause?: RedactedValue
  /** The `errors` of an `AggregateError`. */
  errors?: RedactedValue[]
  /** Other own enumerable properties, e.g. `status`, `code`, `headers`. */
  [key: string]: RedactedValue
}

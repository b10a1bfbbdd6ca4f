import { UNREDACTABLE } from './markers.ts'
import type { RedactedError, RedactedValue } from './types.ts'
import { setKey, type Walk } from './walk-context.ts'

const HANDLED = new Set(['name', 'message', 'stack', 'cause', 'errors'])

/** Whether `value` is an `Error`, also one from another realm. */
export const isErrorLike = (value: object): value is Error =>
  value instanceof Error || Object.prototype.toString.call(value) === '[object Error]'

const readText = (error: object, key: string, walk: Walk): string | undefined => {
  try {
    const value = (error as Record<string, unknown>)[key]
    if (value === undefined || value === null) return undefined
    return walk.text(typeof value === 'string' ? value : String(value))
  } catch {
    return UNREDACTABLE
  }
}

/**
 * Turns an error into a plain object: `name`, `message`, `stack` (unless the walk drops stacks),
 * `cause`, `errors` (of an `AggregateError`) and its other own enumerable properties, each
 * redacted. A property that throws when read becomes `[UNREDACTABLE]`.
 */
export const describeError = (error: Error, depth: number, walk: Walk): RedactedError => {
  const out: RedactedError = {
    name: readText(error, 'name', walk) ?? 'Error',
    message: readText(error, 'message', walk) ?? '',
  }
  if (walk.rules.stacks) {
    const stack = readText(error, 'stack', walk)
    if (stack !== undefined) out.stack = stack
  }
  try {
    if ('cause' in error) out.cause = walk.child(error.cause, depth)
  } catch {
    out.cause = UNREDACTABLE
  }
  try {
    const errors: unknown = (error as { errors?: unknown }).errors
    if (Array.isArray(errors)) out.errors = walk.child(errors, depth) as RedactedValue[]
  } catch {
    out.errors = [UNREDACTABLE]
  }
  try {
    const rest = Object.keys(error).filter((key) => !HANDLED.has(key))
    if (rest.length) {
      const entries = rest.map((key): [string, unknown] => {
        try {
          return [key, (error as unknown as Record<string, unknown>)[key]]
        } catch {
          return [key, UNREDACTABLE]
        }
      })
      for (const [key, value] of Object.entries(walk.record(entries, depth))) {
        if (!HANDLED.has(key)) setKey(out, key, value)
      }
    }
  } catch {
    setKey(out, '…', UNREDACTABLE)
  }
  return out
}

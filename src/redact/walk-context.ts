import type { TextRules } from './redact-text.ts'
import type { RedactedValue } from './types.ts'

/** What a walk needs beyond {@link TextRules}. */
export interface WalkRules extends TextRules {
  readonly stacks: boolean
  readonly maxDepth: number
  readonly maxNodes: number
}

/** One walk's running state, handed to the helpers that describe errors and special objects. */
export interface Walk {
  readonly rules: WalkRules
  /** Redacts a string. */
  text(value: string): string
  /** Redacts any value found one level below `depth`. */
  child(value: unknown, depth: number): RedactedValue
  /**
   * Copies `entries` into a new object: keys redacted, values redacted one level below `depth`,
   * values of sensitive names masked (`sensitive` defaults to the sensitive header names).
   */
  record(
    entries: Iterable<readonly [string, unknown]>,
    depth: number,
    sensitive?: (name: string) => boolean
  ): Record<string, RedactedValue>
}

/** Sets a key on a plain object without ever touching its prototype (`__proto__` is data). */
export const setKey = (
  target: Record<string, RedactedValue>,
  key: string,
  value: RedactedValue
): void => {
  // Only `__proto__` is special to assignment on a plain object; every other key is plain data.
  if (key !== '__proto__') {
    target[key] = value
    return
  }
  Object.defineProperty(target, key, {
    value,
    enumerable: true,
    writable: true,
    configurable: true,
  })
}

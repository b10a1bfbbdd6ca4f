import { describeError, isErrorLike } from './describe-error.ts'
import { describeSpecial, NOT_SPECIAL } from './describe-special.ts'
import { CIRCULAR, MASKED, MAX_DEPTH, TRUNCATED, truncatedItems, UNREDACTABLE } from './markers.ts'
import { redactText } from './redact-text.ts'
import type { RedactedValue } from './types.ts'
import { setKey, type Walk, type WalkRules } from './walk-context.ts'

/** Stands in for a property whose getter threw. */
const UNREDACTABLE_READ: unique symbol = Symbol('unreadable')

const isMaskable = (value: unknown): boolean =>
  value !== undefined && value !== null && value !== ''

/**
 * Redacts any value into plain data: strings through {@link redactText}; arrays, objects, errors,
 * `Map`, `Set`, `Headers`, URLs and the like rebuilt with every part redacted. Never mutates its
 * input and never throws: a part that cannot be read becomes `[UNREDACTABLE]`, a reference
 * cycle `[Circular]`, and depth, node count and string length are bounded.
 */
export const walk = (value: unknown, rules: WalkRules): RedactedValue => {
  let nodes = 0
  const ancestors = new WeakSet<object>()

  const text = (s: string): string => {
    try {
      return redactText(s, rules)
    } catch {
      return UNREDACTABLE
    }
  }

  const record = (
    entries: Iterable<readonly [string, unknown]>,
    depth: number,
    sensitive: (name: string) => boolean = rules.header
  ): Record<string, RedactedValue> => {
    const out: Record<string, RedactedValue> = {}
    for (const [key, item] of entries) {
      if (nodes >= rules.maxNodes) {
        setKey(out, '…', TRUNCATED)
        break
      }
      const name = text(key)
      if (sensitive(key) && isMaskable(item)) {
        nodes++
        setKey(out, name, MASKED)
      } else setKey(out, name, visit(item, depth + 1))
    }
    return out
  }

  /** The own enumerable entries of an object, read once each (a throwing getter is marked). */
  const ownEntries = (object: object): (readonly [string, unknown])[] => {
    const keys = Object.keys(object)
    const entries: (readonly [string, unknown])[] = new Array(keys.length)
    for (let i = 0; i < keys.length; i++) {
      const key = keys[i] as string
      let item: unknown
      try {
        item = (object as Record<string, unknown>)[key]
      } catch {
        item = UNREDACTABLE_READ
      }
      entries[i] = [key, item]
    }
    return entries
  }

  const walker: Walk = {
    rules,
    text,
    child: (item, depth) => visit(item, depth + 1),
    record,
  }

  const visitObject = (object: object, depth: number): RedactedValue => {
    if (Array.isArray(object)) {
      const out: RedactedValue[] = []
      const length = object.length
      for (let i = 0; i < length; i++) {
        if (nodes >= rules.maxNodes) {
          out.push(truncatedItems(length - i))
          break
        }
        let item: unknown
        try {
          item = object[i]
        } catch {
          item = UNREDACTABLE_READ
        }
        out.push(visit(item, depth + 1))
      }
      return out
    }
    if (isErrorLike(object)) return describeError(object, depth, walker)
    const special = describeSpecial(object, depth, walker)
    if (special !== NOT_SPECIAL) return special
    const toJSON = (object as { toJSON?: unknown }).toJSON
    if (typeof toJSON === 'function') return visit(toJSON.call(object, ''), depth + 1)
    return record(ownEntries(object), depth)
  }

  const visit = (item: unknown, depth: number): RedactedValue => {
    if (item === UNREDACTABLE_READ) return UNREDACTABLE
    nodes++
    if (nodes > rules.maxNodes) return TRUNCATED
    try {
      switch (typeof item) {
        case 'string':
          return text(item)
        case 'number':
        case 'boolean':
        case 'undefined':
          return item
        case 'bigint':
          return String(item)
        case 'symbol':
          return text(item.toString())
        case 'function':
          return text(`[Function ${item.name || 'anonymous'}]`)
      }
      if (item === null) return null
      const object = item as object
      if (ancestors.has(object)) return CIRCULAR
      if (depth > rules.maxDepth) return MAX_DEPTH
      ancestors.add(object)
      try {
        return visitObject(object, depth)
      } finally {
        ancestors.delete(object)
      }
    } catch {
      return UNREDACTABLE
    }
  }

  return visit(value, 0)
}

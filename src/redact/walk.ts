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

/** Strings of at most this many characters have their redaction remembered, per rules. */
const REMEMBERED_LENGTH = 64
/** How many redacted short strings each rules object remembers before it starts afresh. */
const REMEMBERED_COUNT = 512
const remembered = new WeakMap<WalkRules, Map<string, string>>()

/**
 * {@link redactText}, never throwing: a short string's redaction is remembered per rules (the
 * rules of a redactor never change, so the same text always redacts the same way), so the
 * constant names and values of every log line and relayed header cost one look-up.
 */
const safeText = (s: string, rules: WalkRules): string => {
  if (s.length > REMEMBERED_LENGTH) {
    try {
      return redactText(s, rules)
    } catch {
      return UNREDACTABLE
    }
  }
  let memo = remembered.get(rules)
  if (memo === undefined) {
    memo = new Map()
    remembered.set(rules, memo)
  }
  const known = memo.get(s)
  if (known !== undefined) return known
  let out: string
  try {
    out = redactText(s, rules)
  } catch {
    return UNREDACTABLE
  }
  if (memo.size >= REMEMBERED_COUNT) memo.clear()
  memo.set(s, out)
  return out
}

/**
 * What {@link walk} makes of `value` when it is a plain object (its prototype
 * `Object.prototype`, not error-like, no `toJSON`) whose own values are all strings, numbers,
 * booleans, `undefined` or `null` and that fits in `maxNodes`; `undefined` for anything else
 * (the walk then does the work, reading the values again).
 */
const flatRecord = (
  value: unknown,
  rules: WalkRules
): Record<string, RedactedValue> | undefined => {
  if (typeof value !== 'object' || value === null) return undefined
  if (Object.getPrototypeOf(value) !== Object.prototype || isErrorLike(value)) return undefined
  const object = value as Record<string, unknown>
  if (typeof object.toJSON === 'function') return undefined
  const keys = Object.keys(object)
  // The walk counts the object and each value as one node each.
  if (keys.length + 1 > rules.maxNodes) return undefined
  const items: unknown[] = new Array(keys.length)
  for (let i = 0; i < keys.length; i++) {
    let item: unknown
    try {
      item = object[keys[i] as string]
    } catch {
      return undefined
    }
    const type = typeof item
    if (item !== null && type !== 'string' && type !== 'number' && type !== 'boolean') {
      if (type !== 'undefined') return undefined
    }
    items[i] = item
  }
  const out: Record<string, RedactedValue> = {}
  for (let i = 0; i < keys.length; i++) {
    const key = keys[i] as string
    const item = items[i]
    const name = safeText(key, rules)
    if (rules.header(key) && isMaskable(item)) setKey(out, name, MASKED)
    else
      setKey(out, name, typeof item === 'string' ? safeText(item, rules) : (item as RedactedValue))
  }
  return out
}

/**
 * Redacts any value into plain data: strings through {@link redactText}; arrays, objects, errors,
 * `Map`, `Set`, `Headers`, URLs and the like rebuilt with every part redacted. Never mutates its
 * input and never throws: a part that cannot be read becomes `[UNREDACTABLE]`, a reference
 * cycle `[Circular]`, and depth, node count and string length are bounded.
 */
export const walk = (value: unknown, rules: WalkRules): RedactedValue => {
  // The common cases of a request, with no walk state: one string (a header value) and one flat
  // plain object of primitives (a log line's fields). Both give what the walk below gives.
  if (typeof value === 'string') return safeText(value, rules)
  const flat = flatRecord(value, rules)
  if (flat !== undefined) return flat
  let nodes = 0
  const ancestors = new WeakSet<object>()

  const text = (s: string): string => safeText(s, rules)

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

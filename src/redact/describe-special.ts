import type { RedactedValue } from './types.ts'
import type { Walk } from './walk-context.ts'

/** Returned by {@link describeSpecial} for an object it has no special rule for. */
export const NOT_SPECIAL: unique symbol = Symbol('not special')

const isInstance = (value: object, name: string): boolean => {
  const type = (globalThis as Record<string, unknown>)[name]
  return typeof type === 'function' && value instanceof type
}

const isPrimitiveKey = (key: unknown): key is string | number | boolean | bigint | symbol =>
  key === null || (typeof key !== 'object' && typeof key !== 'function')

const mapRecord = (map: Map<unknown, unknown>, depth: number, walk: Walk): RedactedValue => {
  const keys = [...map.keys()]
  if (keys.every(isPrimitiveKey)) {
    return walk.record(
      [...map].map(([key, value]): [string, unknown] => [String(key), value]),
      depth
    )
  }
  return walk.child([...map], depth - 1)
}

/** Name/value pairs (headers, search parameters, form data), repeated names as arrays. */
const pairs = (
  entries: Iterable<[string, unknown]>,
  sensitive: (name: string) => boolean,
  depth: number,
  walk: Walk
): RedactedValue => {
  const grouped = new Map<string, unknown>()
  for (const [name, value] of entries) {
    const previous = grouped.get(name)
    if (previous === undefined) grouped.set(name, value)
    else if (Array.isArray(previous)) previous.push(value)
    else grouped.set(name, [previous, value])
  }
  return walk.record(grouped, depth, sensitive)
}

/**
 * Describes objects that have no useful own properties: boxed strings, numbers and booleans
 * (their value; a boxed string is never split into characters), `Date` (ISO string), `URL` (its
 * redacted `href`), `Headers`, `URLSearchParams` and `FormData` (objects, sensitive names
 * masked), `Map` (an object, or `[key, value]` pairs when a key is an object), `Set` (an
 * array), `Request` and `Response` (method or status, URL and headers), binary data and
 * `Blob` (their size only), `RegExp`, promises and weak collections (their type). Returns
 * {@link NOT_SPECIAL} for anything else.
 */
export const describeSpecial = (
  value: object,
  depth: number,
  walk: Walk
): RedactedValue | typeof NOT_SPECIAL => {
  if (value instanceof String) return walk.text(value.valueOf())
  if (value instanceof Number || value instanceof Boolean) return value.valueOf()
  if (value instanceof Date) {
    return Number.isNaN(value.getTime()) ? 'Invalid Date' : value.toISOString()
  }
  if (value instanceof URL) return walk.text(value.href)
  if (value instanceof RegExp) return walk.text(String(value))
  if (isInstance(value, 'Headers')) {
    return pairs(value as Headers, walk.rules.header, depth, walk)
  }
  if (value instanceof URLSearchParams) return pairs(value, walk.rules.param, depth, walk)
  if (isInstance(value, 'FormData')) {
    return pairs(value as FormData as Iterable<[string, unknown]>, walk.rules.param, depth, walk)
  }
  if (value instanceof Map) return mapRecord(value, depth, walk)
  if (value instanceof Set) return walk.child([...value], depth - 1)
  if (isInstance(value, 'Request')) {
    const request = value as Request
    return {
      method: walk.text(request.method),
      url: walk.text(request.url),
      headers: pairs(request.headers, walk.rules.header, depth, walk),
    }
  }
  if (isInstance(value, 'Response')) {
    const response = value as Response
    return {
      status: response.status,
      statusText: walk.text(response.statusText),
      url: walk.text(response.url),
      headers: pairs(response.headers, walk.rules.header, depth, walk),
    }
  }
  if (value instanceof ArrayBuffer || ArrayBuffer.isView(value)) {
    const name = value.constructor?.name || 'ArrayBuffer'
    return `[${name} byteLength=${value.byteLength}]`
  }
  if (isInstance(value, 'Blob')) return `[Blob size=${(value as Blob).size}]`
  if (value instanceof Promise) return '[Promise]'
  if (value instanceof WeakMap || value instanceof WeakSet) return `[${value.constructor.name}]`
  if (typeof WeakRef === 'function' && value instanceof WeakRef) return '[WeakRef]'
  return NOT_SPECIAL
}

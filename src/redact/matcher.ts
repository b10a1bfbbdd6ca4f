import { toHex } from '../encoding.ts'
import { fingerprint } from '../secrets/fingerprint.ts'
import { LONGEST_ESCAPE, unfinishedEscape, unitAt } from './json-escape.ts'
import { secretForms } from './secret-forms.ts'

/** What {@link SecretMatcher.replace} returns. */
export interface Replaced {
  /** The text with every secret form replaced. */
  readonly text: string
  /** How many characters of the input `text` holds; less than its length when it was cut. */
  readonly consumed: number
}

/**
 * The compiled form of one set of secret values: every encoded form of every value, and every
 * run of {@link RUN_LENGTH} or more of a value's characters, searched in one pass each. Build it
 * once per distinct set with {@link compileMatcher}.
 */
export interface SecretMatcher {
  /** How many distinct secret values it knows. */
  readonly size: number
  /** The fingerprint of the secret `text` is exactly, whatever its length; else `undefined`. */
  exact(text: string): string | undefined
  /**
   * Replaces every form of every secret at least `minLength` long with its fingerprint, and
   * every run of {@link RUN_LENGTH} or more consecutive characters of one (case-insensitively,
   * across line breaks, also of its hex form), overlapping occurrences merged. In a text that
   * holds `\u` escapes, each character of a secret (or of a run) may also be written as a JSON
   * escape (`\u0041` in either case, `\\u0041` inside a JSON string once more, `\"`, `\/`):
   * fully, partly or not at all escaped, it is found in the same single scan. Reads at most
   * the first `limit` characters (an occurrence that starts before `limit` is still replaced
   * whole), so the work is bounded.
   */
  replace(text: string, limit: number): Replaced
  /**
   * Whether `text` holds anything {@link replace} would replace. `bytes`, when given, are the
   * UTF-8 of exactly `text`: runs are then looked for in them (faster than in the string).
   */
  test(text: string, bytes?: Uint8Array): boolean
  /**
   * How many characters at the end of `text` could be the start (or the unfinished part) of
   * something the next chunk completes: a stream holds back that many, 0 when the tail can
   * begin nothing. Bounded by the longest secret's form.
   */
  pendingSuffix(text: string): number
}

/**
 * The shortest run of a secret's characters that is replaced inside a text: a key truncated as
 * providers print it (`sk-ant-api03-AbCdEfGh...WXYZ`), a fragment, an upper-cased copy.
 */
export const RUN_LENGTH = 8

const escapeRegExp = (text: string): string => text.replace(/[\\^$.*+?()[\]{}|/-]/g, '\\$&')

const isHighSurrogate = (code: number): boolean => code >= 0xd800 && code <= 0xdbff

/** Where to cut `text` at or before `at` without splitting a surrogate pair. */
const cutAt = (text: string, at: number, floor: number): number =>
  at > floor && at < text.length && isHighSurrogate(text.charCodeAt(at - 1)) ? at - 1 : at

/** Bytes of the block bitmap: 2^20 bits. */
const BLOCK_MAP_BYTES = 1 << 17

/**
 * The bitmap slot (20 bits) of the 4 characters of `text` at `i`, case folded the cheap way
 * (`| 0x20`: A–Z become a–z, and a few punctuation characters share a slot with others, which
 * only costs a closer look).
 */
const blockSlot = (text: string, i: number): number => {
  const block =
    ((text.charCodeAt(i) & 0xff) << 24) |
    ((text.charCodeAt(i + 1) & 0xff) << 16) |
    ((text.charCodeAt(i + 2) & 0xff) << 8) |
    (text.charCodeAt(i + 3) & 0xff) |
    0x20202020
  return Math.imul(block, 0x9e3779b1) >>> 12
}

/** {@link blockSlot} of the 4 bytes at `i` (ASCII: the same slot as the text's). */
const byteBlockSlot = (view: DataView, i: number): number =>
  Math.imul(view.getUint32(i) | 0x20202020, 0x9e3779b1) >>> 12

const isBreak = (code: number): boolean => code === 10 || code === 13

/** `n` or `r` after a backslash: a line break as JSON and most string literals escape it. */
const isEscapedBreak = (char: string | undefined): boolean => char === 'n' || char === 'r'

const lowerHexOf = (text: string): string => toHex(new TextEncoder().encode(text))

/** A text a run is searched in: a secret's value, or its hex form; lower-cased. */
interface RunSource {
  readonly text: string
  readonly print: string
  /** The shortest run of it that is replaced. */
  readonly min: number
}

/**
 * A text the escape-aware scan looks for, as UTF-16 units: a {@link RunSource}'s (lower-cased),
 * or a secret too short for runs, matched whole and as it is (`exact`).
 */
interface UnitSource {
  readonly units: Uint16Array
  readonly print: string
  readonly min: number
  readonly exact: boolean
}

/** A UTF-16 unit lower-cased on its own (A–Z the cheap way). */
const lowerUnit = (unit: number): number => {
  if (unit < 0x80) return unit >= 0x41 && unit <= 0x5a ? unit + 0x20 : unit
  const lower = String.fromCharCode(unit).toLowerCase()
  return lower.length === 1 ? lower.charCodeAt(0) : unit
}

const unitsOf = (text: string, lower: boolean): Uint16Array => {
  const units = new Uint16Array(text.length)
  for (let i = 0; i < text.length; i++) {
    const unit = text.charCodeAt(i)
    units[i] = lower ? lowerUnit(unit) : unit
  }
  return units
}

/** {@link blockSlot} of 4 units. */
const unitSlot = (a: number, b: number, c: number, d: number): number =>
  Math.imul(
    ((a & 0xff) << 24) | ((b & 0xff) << 16) | ((c & 0xff) << 8) | (d & 0xff) | 0x20202020,
    0x9e3779b1
  ) >>> 12

/** One place found to replace: `[start, end)` of the text, and the fingerprint it stands for. */
interface Region {
  start: number
  end: number
  prints: string[]
}

/**
 * Compiles a matcher for `secrets`. Values shorter than `minLength` are matched only as whole
 * strings ({@link SecretMatcher.exact}); replacing them inside text would destroy it.
 */
export const compileMatcher = (secrets: readonly string[], minLength: number): SecretMatcher => {
  const values = [...new Set(secrets)].filter((s) => s.length > 0)
  const exact = new Map<string, string>()
  const needles = new Map<string, string>()
  const sources: RunSource[] = []
  // What the escape-aware scan looks for: the run sources, and secrets too short for runs.
  const unitSources: UnitSource[] = []
  for (const secret of [...values].sort((a, b) => b.length - a.length)) {
    const print = fingerprint(secret)
    exact.set(secret, print)
    if (secret.length < minLength) continue
    for (const form of secretForms(secret, minLength)) {
      if (!needles.has(form)) needles.set(form, print)
    }
    if (secret.length >= RUN_LENGTH) {
      sources.push({ text: secret.toLowerCase(), print, min: RUN_LENGTH })
      // Hex digits are common: a run of hex counts from 8 bytes (16 digits) on.
      sources.push({ text: lowerHexOf(secret), print, min: 2 * RUN_LENGTH })
      unitSources.push({ units: unitsOf(secret, true), print, min: RUN_LENGTH, exact: false })
      const hex = lowerHexOf(secret)
      unitSources.push({ units: unitsOf(hex, true), print, min: 2 * RUN_LENGTH, exact: false })
    } else if (secret.length >= 4) {
      unitSources.push({ units: unitsOf(secret, false), print, min: secret.length, exact: true })
    }
  }
  const ordered = [...needles.keys()].sort((a, b) => b.length - a.length)
  const longestForm = ordered[0]?.length ?? 0
  const pattern = ordered.length ? new RegExp(ordered.map(escapeRegExp).join('|'), 'g') : undefined

  // Every run of RUN_LENGTH characters of every source, lower-cased, and where it sits.
  const grams = new Map<string, { source: RunSource; offset: number }>()
  // Every shorter piece of a source: what a chunk may end with when a run continues in the next.
  const pieces = new Set<string>()
  for (const source of sources) {
    for (let i = 0; i + RUN_LENGTH <= source.text.length; i++) {
      const gram = source.text.slice(i, i + RUN_LENGTH)
      if (!grams.has(gram)) grams.set(gram, { source, offset: i })
    }
    for (let i = 0; i < source.text.length; i++) {
      for (let n = 1; n < RUN_LENGTH && i + n <= source.text.length; n++) {
        pieces.add(source.text.slice(i, i + n))
      }
    }
  }
  const runs = grams.size
    ? new RegExp([...grams.keys()].map(escapeRegExp).join('|'), 'gi')
    : undefined
  const longestRun = sources.reduce((max, source) => Math.max(max, source.text.length), 0)
  const formProbe = pattern && new RegExp(pattern.source)
  const runProbe = runs && new RegExp(runs.source, 'i')

  // A bitmap of the hashes of every 4 characters of every source (lower-cased): any run of 8
  // holds such a block at a text position divisible by 4, so a text is searched for runs only
  // where one of those blocks is in the map — a quarter of its positions, a typed-array look-up
  // each, instead of a regular expression of every run at every position.
  const blocks = new Uint8Array(BLOCK_MAP_BYTES)
  for (const source of sources) {
    for (let i = 0; i + 4 <= source.text.length; i++) {
      const slot = blockSlot(source.text, i)
      blocks[slot >>> 3] = (blocks[slot >>> 3] as number) | (1 << (slot & 7))
    }
  }
  // Every 4 units of every unit source (lower-cased) and where it sits: where the escape-aware
  // scan starts growing a run. Their blocks join the bitmap.
  const quads = new Map<string, { source: UnitSource; offset: number }[]>()
  for (const source of unitSources) {
    const lowered = source.exact ? source.units.map(lowerUnit) : source.units
    for (let i = 0; i + 4 <= lowered.length; i++) {
      const quad = String.fromCharCode(...lowered.subarray(i, i + 4))
      const list = quads.get(quad)
      if (list) list.push({ source, offset: i })
      else quads.set(quad, [{ source, offset: i }])
      const slot = blockSlot(quad, 0)
      blocks[slot >>> 3] = (blocks[slot >>> 3] as number) | (1 << (slot & 7))
    }
  }
  // Short exact secrets and runs are looked for in escaped text also when no run exists.
  const shortPieces = new Set<string>()
  for (const source of unitSources) {
    if (!source.exact) continue
    const lowered = String.fromCharCode(...source.units.map(lowerUnit))
    for (let n = 1; n < lowered.length; n++) shortPieces.add(lowered.slice(0, n))
  }
  const escapable = quads.size > 0

  /** Whether the escape-aware scan is the one for `text`: it holds a `\u` escape. */
  const hasEscapes = (text: string): boolean => escapable && text.includes('\\u')

  /**
   * The escape-aware scan: reads `text` once, each position as a character or as the JSON escape
   * that starts there ({@link escapeAt}), and finds every run (as {@link grow} does, line breaks
   * skipped) and every short secret whole, written with any mix of escapes. Regions inside a
   * whole form are left to it. Stops at the first region when `first`; returns whether it found
   * any.
   */
  const scanEscaped = (
    text: string,
    limit: number,
    found: Region[],
    forms: readonly Region[],
    first: boolean
  ): boolean => {
    const length = text.length
    // Per decoded unit: where it starts in the text, as it is, and lower-cased.
    const starts = new Int32Array(length + 1)
    const raw = new Uint16Array(length)
    const lowered = new Uint16Array(length)
    let count = 0
    let skipBelow = 0
    let any = false
    for (let i = 0; i < length; ) {
      const packed = unitAt(text, i)
      const unit = packed >>> 3
      starts[count] = i
      raw[count] = unit
      lowered[count] = lowerUnit(unit)
      count++
      i += packed & 7
      const g = count - 4
      if (g < skipBelow || (starts[g] as number) >= limit) continue
      const slot = unitSlot(
        lowered[g] as number,
        lowered[g + 1] as number,
        lowered[g + 2] as number,
        lowered[g + 3] as number
      )
      if (((blocks[slot >>> 3] as number) & (1 << (slot & 7))) === 0) continue
      const hits = quads.get(String.fromCharCode(...lowered.subarray(g, g + 4)))
      if (!hits) continue
      for (const { source, offset } of hits) {
        const units = source.exact ? raw : lowered
        let matched = true
        for (let k = 0; k < 4 && matched; k++) {
          matched = units[g + k] === source.units[offset + k]
        }
        if (!matched) continue
        // Forward, decoding past what the scan has read.
        let hi = offset + 4
        let end = i
        let ahead = 0
        let read = 0
        for (let j = i; j < length && hi < source.units.length; ) {
          const packed = unitAt(text, j)
          const u = packed >>> 3
          const step = packed & 7
          read++
          if ((source.exact ? u : lowerUnit(u)) === source.units[hi]) {
            hi++
            j += step
            end = j
            ahead = read
          } else if (!source.exact && (u === 10 || u === 13)) j += step
          else break
        }
        // Backward, over what it has read.
        let lo = offset
        let from = starts[g] as number
        for (let m = g - 1; m >= 0 && lo > 0; m--) {
          const u = units[m] as number
          if (u === source.units[lo - 1]) {
            lo--
            from = starts[m] as number
          } else if (source.exact || (u !== 10 && u !== 13)) break
        }
        if (hi - lo < source.min) continue
        if (forms.some((f) => f.start <= from && f.end >= end)) continue
        found.push({ start: from, end, prints: [source.print] })
        any = true
        if (first) return true
        skipBelow = Math.max(skipBelow, g + 1, count + ahead - RUN_LENGTH + 1)
      }
    }
    return any
  }

  const mayHoldRun = (text: string): boolean => {
    if (!runProbe) return false
    for (let i = 0; i + 4 <= text.length; i += 4) {
      const slot = blockSlot(text, i)
      if (((blocks[slot >>> 3] as number) & (1 << (slot & 7))) === 0) continue
      if (runProbe.test(text.slice(Math.max(0, i - 4), i + 8))) return true
    }
    return false
  }
  // Byte positions are character positions only for ASCII: secrets with other characters are
  // looked for in the text.
  const asciiSources = sources.every((source) =>
    Array.from(source.text).every((char) => char.charCodeAt(0) < 0x80)
  )
  const mayHoldRunInBytes = (bytes: Uint8Array, text: string): boolean => {
    if (!runProbe) return false
    if (!asciiSources) return mayHoldRun(text)
    const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength)
    for (let i = 0; i + 4 <= bytes.length; i += 4) {
      const slot = byteBlockSlot(view, i)
      if (((blocks[slot >>> 3] as number) & (1 << (slot & 7))) === 0) continue
      // A candidate: the run, ASCII, is in the bytes around it as they are (a byte of another
      // character reads as a Latin-1 one, which no run holds).
      const around = bytes.subarray(Math.max(0, i - 4), i + 8)
      if (runProbe.test(String.fromCharCode(...around))) return true
    }
    return false
  }

  /**
   * Grows a run found at `[start, start + RUN_LENGTH)` (`offset` into its source) as far as the
   * text goes on matching the source, case-insensitively, line breaks skipped (raw, or escaped
   * as `\\n`/`\\r` in JSON); `undefined` when
   * the run is shorter than its source's minimum.
   */
  const grow = (
    text: string,
    start: number,
    source: RunSource,
    offset: number
  ): Region | undefined => {
    let end = start + RUN_LENGTH
    let hi = offset + RUN_LENGTH
    for (let i = end; i < text.length && hi < source.text.length; ) {
      if (text[i]?.toLowerCase() === source.text[hi]) {
        hi++
        i++
        end = i
      } else if (isBreak(text.charCodeAt(i))) i++
      else if (text[i] === '\\' && isEscapedBreak(text[i + 1])) i += 2
      else break
    }
    let from = start
    let lo = offset
    for (let i = start - 1; i >= 0 && lo > 0; ) {
      if (text[i]?.toLowerCase() === source.text[lo - 1]) {
        lo--
        from = i
        i--
      } else if (isBreak(text.charCodeAt(i))) i--
      else if (isEscapedBreak(text[i]) && text[i - 1] === '\\') i -= 2
      else break
    }
    return hi - lo >= source.min ? { start: from, end, prints: [source.print] } : undefined
  }

  /** Every place to replace that starts before `limit`, sorted by start. */
  const find = (text: string, limit: number): Region[] => {
    const found: Region[] = []
    if (pattern && text.length >= minLength) {
      pattern.lastIndex = 0
      for (let m = pattern.exec(text); m !== null && m.index < limit; m = pattern.exec(text)) {
        const print = needles.get(m[0]) ?? '[REDACTED]'
        found.push({ start: m.index, end: m.index + m[0].length, prints: [print] })
        pattern.lastIndex = m.index + 1
      }
    }
    const forms = [...found]
    if (hasEscapes(text)) {
      scanEscaped(text, limit, found, forms, false)
    } else if (runs && text.length >= RUN_LENGTH && mayHoldRun(text)) {
      runs.lastIndex = 0
      for (let m = runs.exec(text); m !== null && m.index < limit; m = runs.exec(text)) {
        const hit = grams.get(m[0].toLowerCase())
        const region = hit && grow(text, m.index, hit.source, hit.offset)
        if (region) {
          // A run inside a whole form is that form: its own fingerprint says which secret.
          if (!forms.some((f) => f.start <= region.start && f.end >= region.end)) found.push(region)
          runs.lastIndex = Math.max(m.index + 1, region.end - RUN_LENGTH + 1)
        } else {
          runs.lastIndex = m.index + 1
        }
      }
    }
    return found.sort((a, b) => a.start - b.start)
  }

  /** Overlapping regions as one, each fingerprint once. */
  const merge = (found: Region[]): Region[] => {
    const merged: Region[] = []
    for (const region of found) {
      const last = merged[merged.length - 1]
      if (last && region.start < last.end) {
        // Only a region that reaches further adds its fingerprint: one inside says nothing new.
        if (region.end > last.end) {
          last.end = region.end
          for (const print of region.prints) {
            if (!last.prints.includes(print)) last.prints.push(print)
          }
        }
      } else {
        merged.push({ start: region.start, end: region.end, prints: [...region.prints] })
      }
    }
    return merged
  }

  const replace = (text: string, limit: number): Replaced => {
    const truncated = text.length > limit
    // A form or a run that starts before `limit` may go on past it, each character escaped.
    const reach = Math.max(longestForm, longestRun * 2 * LONGEST_ESCAPE)
    const window = truncated ? text.slice(0, limit + reach) : text
    let out = ''
    let cursor = 0
    for (const region of merge(find(window, limit))) {
      out += text.slice(cursor, region.start) + region.prints.join('')
      cursor = region.end
    }
    if (!truncated) return { text: out + text.slice(cursor), consumed: text.length }
    const end = Math.max(cursor, cutAt(text, limit, cursor))
    return { text: out + text.slice(cursor, end), consumed: end }
  }

  const pendingSuffix = (text: string): number => {
    let hold = 0
    // The start of an encoded form.
    for (let length = Math.min(longestForm - 1, text.length); length > 0; length--) {
      if (needlePrefix(text.slice(text.length - length))) {
        hold = length
        break
      }
    }
    if (!runs && !escapable) return hold
    // A run that reaches the end may go on in the next chunk: hold it back whole. Written in
    // escapes, each of its characters may take up to LONGEST_ESCAPE.
    const span = 2 * longestRun + RUN_LENGTH
    const near = text.slice(Math.max(0, text.length - span * LONGEST_ESCAPE))
    const tail = hasEscapes(near) ? near : text.slice(Math.max(0, text.length - span))
    // A run reaches the end also when only an unfinished escape follows it.
    const end = tail.length - (escapable ? unfinishedEscape(tail) : 0)
    for (const region of merge(find(tail, tail.length))) {
      if (region.end >= end) hold = Math.max(hold, tail.length - region.start)
    }
    if (escapable) hold = Math.max(hold, escapedPieceHold(tail))
    if (!runs) return hold
    // A piece shorter than a run may become one: the last characters, line breaks skipped.
    let piece = ''
    for (let i = text.length - 1, taken = 0; i >= 0 && taken < RUN_LENGTH - 1; i--) {
      if (isBreak(text.charCodeAt(i))) continue
      piece = (text[i] ?? '').toLowerCase() + piece
      taken++
      if (pieces.has(piece)) hold = Math.max(hold, text.length - i)
      else break
    }
    return hold
  }

  /**
   * How much of the end of `tail` is an unfinished escape, after what may begin a run or a short
   * secret written with escapes (its last characters decoded, line breaks skipped).
   */
  const escapedPieceHold = (tail: string): number => {
    const open = unfinishedEscape(tail)
    const text = tail.slice(0, tail.length - open)
    const from = Math.max(0, text.length - RUN_LENGTH * LONGEST_ESCAPE)
    const starts: number[] = []
    const units: number[] = []
    for (let i = from; i < text.length; ) {
      const packed = unitAt(text, i)
      starts.push(i)
      units.push(lowerUnit(packed >>> 3))
      i += packed & 7
    }
    let hold = open
    let piece = ''
    for (let k = units.length - 1, taken = 0; k >= 0 && taken < RUN_LENGTH - 1; k--) {
      const unit = units[k] as number
      if (unit === 10 || unit === 13) continue
      piece = String.fromCharCode(unit) + piece
      taken++
      if (pieces.has(piece) || shortPieces.has(piece)) {
        hold = Math.max(hold, tail.length - (starts[k] as number))
      } else break
    }
    return hold
  }

  // Every proper prefix of every form: what a chunk may end with when a form spans two chunks.
  const prefixes = new Set<string>()
  for (const needle of ordered) {
    for (let length = 1; length < needle.length; length++) prefixes.add(needle.slice(0, length))
  }
  const needlePrefix = (suffix: string): boolean => prefixes.has(suffix)

  return {
    size: values.length,
    exact: (text) => exact.get(text),
    replace,
    test: (text, bytes) =>
      (formProbe?.test(text) ?? false) ||
      (hasEscapes(text)
        ? scanEscaped(text, text.length, [], [], true)
        : bytes
          ? mayHoldRunInBytes(bytes, text)
          : mayHoldRun(text)),
    pendingSuffix,
  }
}

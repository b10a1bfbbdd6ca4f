import { toHex } from '../encoding.ts'
import { fingerprint } from '../secrets/fingerprint.ts'
import { LONGEST_ESCAPE, unfinishedEscape, unitAt, widenToEscapes } from './json-escape.ts'
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
  /** Whether `text` holds anything {@link replace} would replace. */
  test(text: string): boolean
  /**
   * {@link test} of the text whose UTF-8 is `bytes`, decided from the bytes alone where it can
   * be (decoded only to read a whole form's expression once a block of a secret is found):
   * `undefined` when it cannot (a `\u` escape in them, a secret that is not ASCII, a form too
   * short for the block map), and the text must be tested.
   */
  testBytes(bytes: Uint8Array): boolean | undefined
  /**
   * How many of the bytes before `end` of `bytes` (UTF-8; `end` after a line break) a stream
   * holds back: the end of a line that a run of a secret's characters may go on from, across the
   * breaks, in the next chunk. {@link pendingSuffix} of their text, in bytes, read from the
   * bytes where it can be; 0 at once when the line ends in a character no secret holds.
   */
  lineEndHold(bytes: Uint8Array, end: number): number
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

/** Where to cut `text` at or before `at` without splitting a surrogate pair (after a high one). */
const cutAt = (text: string, at: number, floor: number): number =>
  at > floor && at < text.length && (text.charCodeAt(at - 1) & 0xfc00) === 0xd800 ? at - 1 : at

/**
 * Every how many characters a text's 4-character block is looked up in the map: a run of
 * {@link RUN_LENGTH} holds a block at a position divisible by it (one of its first 5 positions).
 */
const STRIDE = RUN_LENGTH - 3

/** A form this long or longer holds a 4-character block at a position divisible by STRIDE. */
const SHORTEST_MAPPED_FORM = STRIDE + 3

/**
 * The 4 characters of `text` at `i` as one 32-bit block, each its low byte, case folded the
 * cheap way (`| 0x20`: A–Z become a–z, and a few punctuation characters share a block with
 * others, which only costs a closer look). Never 0.
 */
const blockAt = (text: string, i: number): number =>
  ((text.charCodeAt(i) & 0xff) << 24) |
  ((text.charCodeAt(i + 1) & 0xff) << 16) |
  ((text.charCodeAt(i + 2) & 0xff) << 8) |
  (text.charCodeAt(i + 3) & 0xff) |
  0x20202020

/** A block's 32-bit hash: its top bits index the block map and the block table. */
const hashOf = (block: number): number => Math.imul(block, 0x9e3779b1)

const utf8 = new TextDecoder()

/** A text a run is searched in: a secret's value, or its hex form; lower-cased. */
interface RunSource {
  readonly text: string
  readonly print: string
  /** The shortest run of it that is replaced. */
  readonly min: number
  /** Matched as it is and whole (a secret too short for runs, found whole by the scan of runs). */
  readonly exact?: boolean
}

/** A UTF-16 unit lower-cased on its own (A–Z the cheap way). */
const lowerUnit = (unit: number): number =>
  unit < 0x80
    ? unit >= 0x41 && unit <= 0x5a
      ? unit + 0x20
      : unit
    : String.fromCharCode(unit).toLowerCase().charCodeAt(0)

/** {@link blockAt} of 4 units. */
const unitBlock = (a: number, b: number, c: number, d: number): number =>
  ((a & 0xff) << 24) | ((b & 0xff) << 16) | ((c & 0xff) << 8) | (d & 0xff) | 0x20202020

/** Two units as one 16-bit pair, each its low byte folded as {@link blockAt} folds it. */
const pairOf = (a: number, b: number): number => (((a & 0xff) | 0x20) << 8) | ((b & 0xff) | 0x20)

/** How many units either side of a line break a run across it may take: RUN_LENGTH - 1. */
const SIDE = RUN_LENGTH - 1

/** Hex digits, lower-cased: what a piece of a secret's hex form longer than a run's is made of. */
const HEX_DIGITS = /^[0-9a-f]+$/

/** Whether `unit` is a raw line break (`\n`, `\r`). */
const isLineBreak = (unit: number): boolean => unit === 0x0a || unit === 0x0d

/** A text's UTF-16 units, or UTF-8 bytes read each as the character of its value. */
type Units = Uint8Array | Uint16Array

/** The length of the line break that starts at `i` (raw, or a JSON escape: `\n`, `\r`), or 0. */
const breakStartsAt = (units: Units, i: number): number => {
  if (i >= units.length) return 0
  const unit = units[i] as number
  if (unit === 0x0a || unit === 0x0d) return 1
  if (unit !== 0x5c || i + 1 === units.length) return 0
  const next = units[i + 1] as number
  return next === 0x6e || next === 0x72 ? 2 : 0
}

/** The length of the line break that ends at `i` (its last unit), or 0. */
const breakEndsAt = (units: Units, i: number): number => {
  if (i < 0) return 0
  const unit = units[i] as number
  if (unit === 0x0a || unit === 0x0d) return 1
  return (unit === 0x6e || unit === 0x72) && i > 0 && units[i - 1] === 0x5c ? 2 : 0
}

/** The UTF-16 units of `text`. */
const unitsOf = (text: string): Uint16Array => {
  const units = new Uint16Array(text.length)
  for (let i = 0; i < text.length; i++) units[i] = text.charCodeAt(i)
  return units
}

/** What a line break begins with: raw, or the backslash of an escaped one. */
const BREAK_MARKS = ['\n', '\r', '\\'] as const

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
  // Secrets too short for runs: the scan of runs finds them whole, however escaped.
  const shorts: RunSource[] = []
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
      sources.push({ text: toHex(new TextEncoder().encode(secret)), print, min: 2 * RUN_LENGTH })
    } else if (secret.length >= 4) {
      shorts.push({ text: secret, print, min: secret.length, exact: true })
    }
  }
  const ordered = [...needles.keys()].sort((a, b) => b.length - a.length)
  const longestForm = ordered[0]?.length ?? 0
  const pattern = ordered.length ? new RegExp(ordered.map(escapeRegExp).join('|'), 'g') : undefined

  // Every run of RUN_LENGTH characters of every source, lower-cased: what a text without escapes
  // must hold before the scan that finds runs (scanRuns) reads it.
  const grams = new Set<string>()
  // Every shorter piece of a source: what a chunk may end with when a run continues in the next.
  const pieces = new Set<string>()
  for (const source of sources) {
    for (let i = 0; i + RUN_LENGTH <= source.text.length; i++) {
      grams.add(source.text.slice(i, i + RUN_LENGTH))
    }
  }
  const runProbe = grams.size ? new RegExp([...grams].map(escapeRegExp).join('|'), 'i') : undefined
  const longestRun = sources.reduce((max, source) => Math.max(max, source.text.length), 0)
  const formProbe = pattern && new RegExp(pattern.source)

  // Every 4 characters of every source and short secret (lower-cased) as a block: any run of 8
  // holds one at a text position divisible by STRIDE, so a text is searched for runs only where
  // one of those blocks is (a fifth of its positions, a typed-array look-up each, instead of a
  // regular expression of every run at every position). And where each sits: where the
  // escape-aware scan starts growing a run.
  const marked = new Set<number>()
  const quads = new Map<string, { source: RunSource; offset: number }[]>()
  for (const source of [...sources, ...shorts]) {
    const text = source.text.toLowerCase()
    for (let i = 0; i < text.length; i++) {
      for (let n = 1; n < RUN_LENGTH && i + n <= text.length; n++) pieces.add(text.slice(i, i + n))
    }
    for (let i = 0; i + 4 <= source.text.length; i++) {
      const quad = source.text.slice(i, i + 4).toLowerCase()
      quads.set(quad, [...(quads.get(quad) ?? []), { source, offset: i }])
      marked.add(blockAt(quad, 0))
    }
  }
  const escapable = quads.size > 0
  // Every 4 characters of every whole form join the bitmap too: a form of SHORTEST_MAPPED_FORM or
  // more characters holds such a block at a position divisible by STRIDE, so a chunk's bytes
  // go to the regular expression of every form only once a block of one is found in them.
  for (const form of ordered) {
    for (let i = 0; i + 4 <= form.length; i++) marked.add(blockAt(form, i))
  }
  const everyFormMapped = ordered.every((form) => form.length >= SHORTEST_MAPPED_FORM)

  // Every two consecutive characters of a source, folded as blocks are, a bit each: a run that
  // line breaks cut into pieces shorter than RUN_LENGTH has such a pair either side of a break.
  const pairs = new Uint8Array(8192)
  for (const source of sources) {
    for (let i = 0; i + 1 < source.text.length; i++) {
      const pair = pairOf(source.text.charCodeAt(i), source.text.charCodeAt(i + 1))
      pairs[pair >>> 3] = (pairs[pair >>> 3] as number) | (1 << (pair & 7))
    }
  }

  // The blocks, looked up in two steps: a bitmap of their hashes, 64 bits a block (so it stays
  // in the CPU's cache: 8 KiB for two API keys), that most positions end at; then a table of
  // the blocks themselves (open addressing, at most a quarter full), so a block that only shares
  // a bit with one costs one more look-up, not a regular expression.
  const mapBits = Math.min(20, Math.max(10, Math.ceil(Math.log2(marked.size * 64))))
  const mapShift = 32 - mapBits
  const blocks = new Uint8Array(1 << (mapBits - 3))
  const tableBits = Math.max(4, Math.ceil(Math.log2(marked.size * 4)))
  const tableShift = 32 - tableBits
  const tableMask = (1 << tableBits) - 1
  const table = new Int32Array(1 << tableBits)
  for (const block of marked) {
    const hash = hashOf(block)
    const slot = hash >>> mapShift
    blocks[slot >>> 3] = (blocks[slot >>> 3] as number) | (1 << (slot & 7))
    let at = hash >>> tableShift
    while (table[at] !== 0) at = (at + 1) & tableMask
    table[at] = block
  }
  /** Whether `block` (its hash `hash`) is one of the marked: the bitmap first, then the table. */
  const isMarked = (block: number, hash: number): boolean => {
    const slot = hash >>> mapShift
    if (((blocks[slot >>> 3] as number) & (1 << (slot & 7))) === 0) return false
    for (let at = hash >>> tableShift; ; at = (at + 1) & tableMask) {
      const entry = table[at] as number
      if (entry === block) return true
      if (entry === 0) return false
    }
  }

  // The ASCII characters of the sources, either case: what the unit before a break must be for a
  // run to lie across it (of breaks in a row only the first is looked at, whatever is before the
  // others).
  const sourceUnits = new Uint8Array(128)
  for (const source of sources) {
    for (const char of source.text) {
      for (const unit of [char.charCodeAt(0), char.toUpperCase().charCodeAt(0)]) {
        if (unit < 0x80) sourceUnits[unit] = 1
      }
    }
  }
  // Whether any source is long enough for runs (only their runs are searched across breaks).
  const runs = sources.length > 0
  // The units either side of a line break, breaks skipped: SIDE on each side.
  const around = new Uint16Array(2 * SIDE)

  /**
   * Whether a run of a source may lie across the line break that starts at `at` of `units`,
   * breaks skipped: the units either side of it are a pair of a source's; one of the 3 blocks
   * that hold both is marked; the run's probe finds a run in the SIDE units on each side (where
   * any run of RUN_LENGTH across this break lies, each of them holding one of those blocks).
   */
  const acrossBreak = (units: Units, at: number): boolean => {
    const length = units.length
    // Most often one raw break (`\n`, `\r\n`) with 3 plain units either side (no break, no
    // backslash, no `n` of an escaped break): the 3 blocks across it, read as they stand.
    const raw = units[at] as number
    const next = raw === 0x0d && units[at + 1] === 0x0a ? at + 2 : at + 1
    if (isLineBreak(raw) && at > 2 && next + 2 < length && units[at - 4] !== 0x5c) {
      let block = 0
      let closer = false
      for (let n = 0; n < 6 && !closer; n++) {
        const unit = units[n < 3 ? at - 3 + n : next + n - 3] as number
        block = (block << 8) | (unit & 0xff) | 0x20202020
        closer = unit <= 0x0d || unit === 0x5c || (n > 2 && isMarked(block, hashOf(block)))
      }
      if (!closer) return false
    }
    let back = at - 1
    for (let k = breakEndsAt(units, back); k > 0; k = breakEndsAt(units, back)) back -= k
    let ahead = at
    for (let k = breakStartsAt(units, ahead); k > 0; k = breakStartsAt(units, ahead)) ahead += k
    if (back < 0 || ahead >= length) return false
    const pair = pairOf(units[back] as number, units[ahead] as number)
    if (((pairs[pair >>> 3] as number) & (1 << (pair & 7))) === 0) return false
    // The 3 units either side first, for the blocks across the break; then SIDE, for the probe.
    let first = SIDE
    let end = SIDE
    for (let want = 3; ; want = SIDE) {
      while (first > SIDE - want && back >= 0) {
        const k = breakEndsAt(units, back)
        if (k > 0) back -= k
        else around[--first] = units[back--] as number
      }
      while (end < SIDE + want && ahead < length) {
        const k = breakStartsAt(units, ahead)
        if (k > 0) ahead += k
        else around[end++] = units[ahead++] as number
      }
      if (want === SIDE) break
      let marked = false
      for (let i = Math.max(first, SIDE - 3); i < SIDE && i + 4 <= end && !marked; i++) {
        const block = unitBlock(
          around[i] as number,
          around[i + 1] as number,
          around[i + 2] as number,
          around[i + 3] as number
        )
        marked = isMarked(block, hashOf(block))
      }
      if (!marked) return false
    }
    return runProbe?.test(String.fromCharCode(...around.subarray(first, end))) ?? false
  }

  /**
   * Whether a run may lie across a line break (raw, or a `\n` or `\r` escape) that starts in
   * `[from, to)` of `units`: what the blocks, read as they come, miss when the pieces between
   * breaks are shorter than a run. Of breaks in a row, the first is looked at (the others have
   * the same units either side).
   */
  const brokenRun = (units: Units, from: number, to: number): boolean => {
    for (let at = from, end = Math.min(to, units.length); at < end; at++) {
      const unit = units[at] as number
      if (unit > 0x0d && unit !== 0x5c) continue
      // Most breaks follow a character no source holds (SSE's `}`): nothing more to read.
      const before = at > 0 ? (units[at - 1] as number) : 0
      if (before < 0x80 && sourceUnits[before] === 0) continue
      if (breakStartsAt(units, at) === 0 || breakEndsAt(units, at - 1) > 0) continue
      if (acrossBreak(units, at)) return true
    }
    return false
  }

  /**
   * {@link brokenRun} of a text: its units are copied out only once a break follows a character
   * a source holds (a stack trace's lines end in `)`: none is).
   */
  const brokenRunIn = (text: string): boolean => {
    if (!runs) return false
    let units: Uint16Array | undefined
    for (const mark of BREAK_MARKS) {
      for (let at = text.indexOf(mark); at !== -1; at = text.indexOf(mark, at + 1)) {
        // The units either side of it must be a source's (a stack trace's lines end in `)` or
        // begin with spaces): only then are the text's units copied out, once.
        const before = text.charCodeAt(at - 1)
        if (before < 0x80 && sourceUnits[before] === 0) continue
        let ahead = at
        for (;;) {
          const c = text.charCodeAt(ahead)
          if (c === 0x0a || c === 0x0d) ahead++
          else if (c === 0x5c && /[nr]/.test(text.charAt(ahead + 1))) ahead += 2
          else break
        }
        const after = text.charCodeAt(ahead)
        if (after < 0x80 && sourceUnits[after] === 0) continue
        units ??= unitsOf(text)
        if (breakStartsAt(units, at) > 0 && breakEndsAt(units, at - 1) === 0) {
          if (acrossBreak(units, at)) return true
        }
      }
    }
    return false
  }

  /** Whether the escape-aware scan is the one for `text`: it holds a `\\u` escape. */
  const hasEscapes = (text: string): boolean => escapable && text.includes('\\u')

  /**
   * The scan that finds runs: reads `text` once, each position as a character or as the JSON
   * escape that starts there ({@link unitAt}), and finds every run of {@link RUN_LENGTH} or more
   * characters of a source (case-insensitively, line breaks skipped: raw or escaped) grown as
   * far as the text goes on matching it, and every short secret whole, written with any mix of
   * escapes; a region inside a whole form is that form's. Stops at the first region when
   * `first`; says whether it found one.
   */
  const scanRuns = (
    text: string,
    limit: number,
    found: Region[],
    forms: readonly Region[],
    first: boolean
  ): boolean => {
    // Per unit read: where it starts in the text, what it stands for, that lower-cased.
    const starts = new Int32Array(text.length)
    const units = new Uint16Array(text.length)
    const lowered = new Uint16Array(text.length)
    let count = 0
    let read = 0
    const next = (): boolean => {
      if (read >= text.length) return false
      const code = text.charCodeAt(read)
      // A backslash may begin an escape; any other character stands for itself.
      const packed = code === 0x5c ? unitAt(text, read) : code * 8 + 1
      const unit = packed >>> 3
      starts[count] = read
      units[count] = unit
      lowered[count++] = lowerUnit(unit)
      read += packed & 7
      return true
    }
    const matches = (k: number, source: RunSource, at: number): boolean =>
      (source.exact ? units : lowered)[k] === source.text.charCodeAt(at)
    const skippable = (k: number, source: RunSource): boolean => !source.exact && isBreak(k)
    const isBreak = (k: number): boolean => isLineBreak(units[k] as number)
    /** The first unit at or after `from` that is no line break, read on as needed; -1 at the end. */
    const kept = (from: number): number => {
      for (let k = from; ; k++) {
        while (count <= k) if (!next()) return -1
        if (!isBreak(k)) return k
      }
    }
    let any = false
    let skip = 0
    for (let g = 0; ; g++) {
      while (count < g + 4) if (!next()) return any
      if (g < skip || (starts[g] as number) >= limit) continue
      const a = lowered[g] as number
      let b = lowered[g + 1] as number
      let c = lowered[g + 2] as number
      let d = lowered[g + 3] as number
      let block = unitBlock(a, b, c, d)
      if (!isMarked(block, hashOf(block))) {
        // Else the block of the unit at g and the next 3 that are no line break: a run that
        // breaks cut into short pieces is found too (a secret that holds a line break is found
        // by the blocks as they are).
        if (isLineBreak(a) || !(isLineBreak(b) || isLineBreak(c) || isLineBreak(d))) continue
        const k1 = kept(g + 1)
        const k2 = k1 < 0 ? -1 : kept(k1 + 1)
        const k3 = k2 < 0 ? -1 : kept(k2 + 1)
        if (k3 < 0) continue
        b = lowered[k1] as number
        c = lowered[k2] as number
        d = lowered[k3] as number
        block = unitBlock(a, b, c, d)
        if (!isMarked(block, hashOf(block))) continue
      }
      for (const { source, offset } of quads.get(String.fromCharCode(a, b, c, d)) ?? []) {
        // Forward from the 4 found (reading on as needed), then back.
        let hi = offset
        let end = g
        for (let k = g; hi < source.text.length && (k < count || next()); k++) {
          if (matches(k, source, hi)) {
            hi++
            end = k + 1
          } else if (!skippable(k, source)) break
        }
        if (hi < offset + 4) continue
        let lo = offset
        let from = g
        for (let k = g - 1; k >= 0 && lo > 0; k--) {
          if (matches(k, source, lo - 1)) {
            lo--
            from = k
          } else if (!skippable(k, source)) break
        }
        if (hi - lo < source.min) continue
        // What follows inside this run needs no second look.
        skip = Math.max(skip, g + 1, end - RUN_LENGTH + 1)
        const start = starts[from] as number
        const stop = end < count ? (starts[end] as number) : read
        if (forms.some((f) => f.start <= start && f.end >= stop)) continue
        found.push({ start, end: stop, prints: [source.print] })
        any = true
        if (first) return true
      }
    }
  }

  // Bytes are searched only when every secret is ASCII: byte positions are then character
  // positions, and the map holds what the bytes hold (a secret with another character, even one
  // that lower-cases to ASCII such as the Kelvin sign, is looked for in the text).
  const bytesDecide =
    everyFormMapped && values.every((value) => Array.from(value).every((c) => c < '\u0080'))

  /**
   * Whether `text` (read as it is, escapes not decoded) may hold a run: its blocks looked up in
   * the map, the run's probe reading the 12 characters around each one found (a run of 8 holding
   * that block lies there: it starts at most STRIDE - 1 before it). With `forms`, whether it
   * holds a whole form too: the forms' expression reads the text once, at the first block found
   * (every form is mapped: one in the text holds a block at a position divisible by STRIDE).
   */
  const candidatesIn = (text: string, forms = false): boolean => {
    let formsRead = !forms || formProbe === undefined
    for (let i = 0; i + 4 <= text.length; i += STRIDE) {
      const block = blockAt(text, i)
      if (!isMarked(block, hashOf(block))) continue
      if (!formsRead) {
        formsRead = true
        if (formProbe?.test(text)) return true
      }
      if (runProbe?.test(text.slice(Math.max(0, i - 4), i + 8))) return true
    }
    return false
  }

  /** Whether a `\u` escape starts at or after `from` in `bytes` (`\\u` inside JSON is one too). */
  const escapeFrom = (bytes: Uint8Array, from: number): boolean => {
    for (let at = bytes.indexOf(0x5c, from); at !== -1; at = bytes.indexOf(0x5c, at + 1)) {
      if (bytes[at + 1] === 0x75) return true
    }
    return false
  }

  const testBytes = (bytes: Uint8Array): boolean | undefined => {
    if (!bytesDecide) return undefined
    // Its blocks looked up in the map: at each one found, the forms' expression reads the bytes
    // a form holding it may lie in (every form holds a block at a position divisible by STRIDE,
    // and is at most longestForm long), not read already; the run's probe, the 12 bytes around
    // it (a byte of a character that is not ASCII reads as a Latin-1 one, which no run holds).
    // The end of what the forms' expression has read.
    let formsTo = 0
    // Whether a `\u` escape may lie further on: one sends the text to the escape-aware scan.
    let escapes = escapable
    let found = false
    const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength)
    const last = bytes.length - 4
    let i = 0
    for (; i <= last; i += STRIDE) {
      const word = view.getInt32(i)
      // A backslash (0x5c) or a byte below 0x0e (line breaks are) in the word, found without
      // reading its bytes one by one, or in the byte after it (which no block reads): at the
      // first backslash the rest of the bytes is searched for an escape, once; at a line break,
      // whether a run lies across it.
      const x = word ^ 0x5c5c5c5c
      const slash = (x - 0x01010101) & ~x & 0x80808080
      const fifth = i < last ? (bytes[i + 4] as number) : 0x20
      if (
        slash !== 0 ||
        fifth === 0x5c ||
        ((word - 0x0e0e0e0e) & ~word & 0x80808080) !== 0 ||
        fifth < 0x0e
      ) {
        if (escapes && (slash !== 0 || fifth === 0x5c)) {
          if (escapeFrom(bytes, i)) return undefined
          escapes = false
        }
        if (runs && brokenRun(bytes, i, i + STRIDE)) {
          found = true
          break
        }
      }
      // The first byte high, as blockAt reads the text.
      const block = word | 0x20202020
      if (!isMarked(block, hashOf(block))) continue
      const formsEnd = Math.min(bytes.length, i + longestForm)
      if (formProbe && formsEnd > formsTo) {
        // A form that starts before `formsTo - longestForm + 1` ends by `formsTo`: read already.
        const from = Math.max(0, i + 4 - longestForm, formsTo - longestForm + 1)
        formsTo = formsEnd
        found = formProbe.test(utf8.decode(bytes.subarray(from, formsTo)))
      }
      found ||=
        runProbe?.test(String.fromCharCode(...bytes.subarray(Math.max(0, i - 4), i + 8))) ?? false
      if (found) break
    }
    if (escapes && escapeFrom(bytes, i)) return undefined
    return found || (runs && brokenRun(bytes, i, bytes.length))
  }

  // A text without escapes, every form mapped: its blocks decide, the forms' expression read only
  // once one is found (most texts hold none: a fifth of their positions looked up, nothing more).
  const test = (text: string): boolean =>
    hasEscapes(text)
      ? (formProbe?.test(text) ?? false) || scanRuns(text, text.length, [], [], true)
      : (everyFormMapped
          ? candidatesIn(text, true)
          : (formProbe?.test(text) ?? false) || candidatesIn(text)) || brokenRunIn(text)

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
    // Runs, and short secrets written in escapes: one scan, for a text that may hold one.
    if (hasEscapes(text) || candidatesIn(text) || brokenRunIn(text)) {
      scanRuns(text, limit, found, [...found], false)
    }
    return found.sort((a, b) => a.start - b.start)
  }

  /** Overlapping regions as one, each fingerprint once. */
  const merge = (found: Region[]): Region[] => {
    const merged: Region[] = []
    for (const region of found) {
      const last = merged[merged.length - 1]
      if (last && region.start < last.end) {
        // One widened to a whole escape may begin a few characters before the one it joins.
        last.start = Math.min(last.start, region.start)
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
    // Most texts hold nothing to replace: told by the cheaper test.
    if (!truncated && !test(text)) return { text, consumed: text.length }
    // A form or a run that starts before `limit` may go on past it, each character escaped.
    const reach = Math.max(longestForm, longestRun * 2 * LONGEST_ESCAPE)
    const window = truncated ? text.slice(0, limit + reach) : text
    let out = ''
    let cursor = 0
    const found = find(window, limit)
    for (const region of found) widenToEscapes(text, region)
    for (const region of merge(found)) {
      out += text.slice(cursor, region.start) + region.prints.join('')
      cursor = region.end
    }
    if (!truncated) return { text: out + text.slice(cursor), consumed: text.length }
    const end = Math.max(cursor, cutAt(text, limit, cursor))
    return { text: out + text.slice(cursor, end), consumed: end }
  }

  /** What could begin, or is the unfinished part of, something the next chunk completes. */
  const heldBack = (text: string): number => {
    let hold = 0
    // The start of an encoded form.
    for (let length = Math.min(longestForm - 1, text.length); length > 0; length--) {
      if (prefixes.has(text.slice(text.length - length))) {
        hold = length
        break
      }
    }
    if (!escapable) return hold
    const open = unfinishedEscape(text)
    // A run that reaches the end may go on in the next chunk: hold it back whole. Written in
    // escapes, each of its characters may take up to LONGEST_ESCAPE.
    // Line breaks between them (up to LONGEST_ESCAPE - 1 units a character) count the same.
    const span = 2 * longestRun + RUN_LENGTH
    const tail = text.slice(Math.max(0, text.length - span * LONGEST_ESCAPE))
    // A run reaches the end also when only an unfinished escape, or line breaks (raw or escaped),
    // follow it.
    let reached = tail.length - open
    for (;;) {
      const unit = tail.charCodeAt(reached - 1)
      if (isLineBreak(unit)) reached--
      else if ((unit === 0x6e || unit === 0x72) && tail.charCodeAt(reached - 2) === 0x5c)
        reached -= 2
      else break
    }
    for (const region of merge(find(tail, tail.length))) {
      if (region.end >= reached) hold = Math.max(hold, tail.length - region.start)
    }
    // A piece shorter than a run may become one: the last characters, as they are or escaped,
    // line breaks skipped, before an escape the next chunk may finish (held in any case).
    const starts: number[] = []
    const units: number[] = []
    for (
      let i = Math.max(0, text.length - open - 2 * RUN_LENGTH * LONGEST_ESCAPE);
      i < text.length - open;
    ) {
      const packed = unitAt(text, i)
      starts.push(i)
      units.push(lowerUnit(packed >>> 3))
      i += packed & 7
    }
    hold = Math.max(hold, open)
    // A run of hex digits counts from 2 * RUN_LENGTH: a piece of one may be 15 digits long.
    let piece = ''
    for (let k = units.length - 1, taken = 0; k >= 0 && taken < 2 * RUN_LENGTH - 1; k--) {
      const unit = units[k] as number
      // Line breaks are skipped.
      if (isLineBreak(unit)) continue
      piece = String.fromCharCode(unit) + piece
      taken++
      if (taken < RUN_LENGTH ? pieces.has(piece) : HEX_DIGITS.test(piece)) {
        hold = Math.max(hold, text.length - (starts[k] as number))
      } else break
    }
    return hold
  }

  /**
   * What {@link heldBack} holds, and the unfinished escape before it: what goes out never ends
   * inside an escape that the held tail finishes (`\\` sent, `n!!!!!!!!` replaced later).
   */
  const pendingSuffix = (text: string): number => {
    const hold = heldBack(text)
    return hold + unfinishedEscape(text.slice(0, text.length - hold))
  }

  /**
   * The bytes walk of {@link heldBack}'s pieces, for bytes with no escape near their end (and
   * ASCII secrets): back from `end`, line breaks skipped, while the characters are a piece of a
   * source; -1 when the text must decide (an escape, a character that is not ASCII, a piece as
   * long as a run, which a run reaching the end may be).
   */
  const piecesHeld = (bytes: Uint8Array, end: number): number => {
    if (!bytesDecide) return -1
    const from = Math.max(0, end - RUN_LENGTH * LONGEST_ESCAPE)
    for (let i = Math.max(0, from - LONGEST_ESCAPE); i < end; i++) if (bytes[i] === 0x5c) return -1
    let hold = 0
    let piece = ''
    for (let i = end - 1; i >= from && piece.length < RUN_LENGTH - 1; i--) {
      const unit = bytes[i] as number
      if (isLineBreak(unit)) continue
      if (unit >= 0x80) return -1
      piece = String.fromCharCode(lowerUnit(unit)) + piece
      if (!pieces.has(piece)) return hold
      hold = end - i
    }
    return piece.length < RUN_LENGTH - 1 ? hold : -1
  }

  const lineEndHold = (bytes: Uint8Array, end: number): number => {
    // One line break (`\n`, `\r\n`) before `end`: after a blank line nothing is held, so that
    // an SSE event, which a blank line ends, always goes out whole.
    let last = end - (bytes[end - 2] === 0x0d ? 3 : 2)
    // Escaped line breaks before it are looked past.
    while ((bytes[last] === 0x6e || bytes[last] === 0x72) && bytes[last - 1] === 0x5c) last -= 2
    const unit = bytes[last]
    if (unit === undefined || isLineBreak(unit)) return 0
    // A line that ends in a character no source holds (a byte of one that is not ASCII may be
    // one's when a secret is not ASCII): nothing to hold.
    if (unit < 0x80 ? !pieces.has(String.fromCharCode(lowerUnit(unit))) : bytesDecide) return 0
    const held = piecesHeld(bytes, end)
    if (held >= 0) return held
    const text = utf8.decode(bytes.subarray(0, end))
    const keep = pendingSuffix(text)
    // Never more than the bytes there are (an invalid byte decodes to U+FFFD, 3 of them).
    return keep ? Math.min(end, new TextEncoder().encode(text.slice(text.length - keep)).length) : 0
  }

  // Every proper prefix of every form: what a chunk may end with when a form spans two chunks.
  const prefixes = new Set<string>()
  for (const needle of ordered) {
    for (let length = 1; length < needle.length; length++) prefixes.add(needle.slice(0, length))
  }
  return {
    size: values.length,
    exact: (text) => exact.get(text),
    replace,
    test,
    testBytes,
    lineEndHold,
    pendingSuffix,
  }
}

import { isErrorLike } from './describe-error.ts'
import { UNREDACTABLE } from './markers.ts'
import type { SecretMatcher } from './matcher.ts'
import { MatcherCache } from './matcher-cache.ts'
import {
  type RedactorOptions,
  resolveRedactorOptions,
  type SecretLike,
  secretValues,
} from './options.ts'
import { headerNameSet, paramNameSet } from './sensitive-names.ts'
import type { RedactedError, RedactedValue } from './types.ts'
import { walk } from './walk.ts'
import type { WalkRules } from './walk-context.ts'

/**
 * Replaces known secret values, in every encoded form, and masks sensitive headers, query
 * parameters and URL userinfo, anywhere in a value. Never mutates its input and never throws.
 */
export interface Redactor {
  /** How many distinct secret values this redactor replaces. */
  readonly secretCount: number
  /**
   * A JSON-safe, redacted copy of `value`: strings redacted, errors turned into
   * {@link RedactedError}s, objects, arrays, `Map`, `Set`, `Headers`, URLs rebuilt, cycles
   * shown as `[Circular]`, work bounded by the options' limits.
   */
  redact(value: unknown): RedactedValue
  /** Redacts one string. */
  redactString(text: string): string
  /** Redacts an error (or any thrown value) into a plain {@link RedactedError}. */
  redactError(error: unknown): RedactedError
  /**
   * A relayed body with every form of every known secret replaced by its fingerprint, and
   * nothing else changed (no length limit, no masking by names: it is the upstream's content).
   */
  redactBody(text: string): string
  /**
   * {@link redactBody} of a body read whole as `bytes`, whose UTF-8 text is `text`: the bytes
   * themselves when nothing in them is secret (decided from the bytes where it can, as
   * {@link bodyFilter} decides a chunk), else the redacted text.
   */
  redactBodyBytes(bytes: Uint8Array<ArrayBuffer>, text: string): Uint8Array<ArrayBuffer> | string
  /**
   * A stream transform doing {@link redactBody} on a relayed byte stream (UTF-8), chunk by
   * chunk: a form split across chunks is still found, by holding back only a chunk's tail that
   * could begin one (bounded by the longest form), so the stream stays a stream.
   */
  bodyStream(): TransformStream<Uint8Array, Uint8Array>
  /**
   * {@link bodyStream} as a synchronous filter, for a relay that reads the chunks itself.
   * `observe` sees the text of what goes out (whole lines), as it came, before redaction.
   */
  bodyFilter(observe?: (text: string) => void): BodyFilter
  /**
   * A redactor with the same options and `secrets` in place of this one's. The compiled form of
   * each distinct set of values is cached (bounded), so calling this per request is cheap.
   */
  withSecrets(secrets: Iterable<SecretLike>): Redactor
}

const encoder = new TextEncoder()

/**
 * A synchronous filter over a relayed byte stream: each chunk in, what to send now out
 * (`undefined` when nothing is), and what is left at the end.
 */
export interface BodyFilter {
  push(chunk: Uint8Array): Uint8Array | undefined
  end(): Uint8Array | undefined
}

/** How many bytes at the end of `bytes` begin a UTF-8 character that is not finished there. */
const unfinishedTail = (bytes: Uint8Array): number => {
  for (let back = 1; back <= 4 && back <= bytes.length; back++) {
    const byte = bytes[bytes.length - back] as number
    if ((byte & 0xc0) === 0x80) continue // a continuation byte: look further back
    const length = byte >= 0xf0 ? 4 : byte >= 0xe0 ? 3 : byte >= 0xc0 ? 2 : 1
    return length > back ? back : 0
  }
  return 0
}

const NEWLINE = 0x0a

/**
 * `bytes` as they are when nothing in them is secret, else their text (`text`) redacted;
 * `decided` is what {@link SecretMatcher.testBytes} made of them, if it was asked.
 */
const redactRead = <B extends Uint8Array>(
  matcher: SecretMatcher,
  bytes: B,
  text: string,
  decided: boolean | undefined
): B | string =>
  decided === false || (decided === undefined && !matcher.test(text))
    ? bytes
    : matcher.replace(text, text.length).text

/**
 * The filter of {@link Redactor.bodyFilter}. Whole lines go out at once: the bytes themselves
 * when nothing in them is secret (decided from the bytes, with no decode, unless `observe`
 * wants the text or an escape needs it), else their redacted text; the unfinished last line is
 * held back until the next chunk, unless it grows long, when only a tail that could begin a
 * secret's form or run is (so what is held stays bounded). `observe` sees the text that goes
 * out, as it came, before redaction.
 */
const redactingFilter = (
  matcher: SecretMatcher,
  observe: ((text: string) => void) | undefined
): BodyFilter => {
  const decoder = new TextDecoder()
  let held: Uint8Array | undefined
  const out = (bytes: Uint8Array): Uint8Array | undefined => {
    if (bytes.length === 0) return undefined
    // Most chunks are decided from their bytes: nothing to decode when nobody observes them.
    const decided = observe ? undefined : matcher.testBytes(bytes)
    if (decided === false) return bytes
    const text = decoder.decode(bytes)
    observe?.(text)
    const safe = redactRead(matcher, bytes, text, decided)
    return typeof safe === 'string' ? encoder.encode(safe) : safe
  }
  /** How many bytes of `data` to send now, the rest being held. */
  const cutOf = (data: Uint8Array): number => {
    const lines = data.lastIndexOf(NEWLINE) + 1
    if (data.length - lines <= HELD_LINE_LIMIT)
      return lines && lines - matcher.lineEndHold(data, lines)
    // A long unfinished line: hold what could begin a form or a run, and an unfinished character.
    const whole = data.length - unfinishedTail(data)
    const text = decoder.decode(data.subarray(lines, whole))
    const keep = matcher.pendingSuffix(text)
    // Never before the line's start (an invalid byte decodes to U+FFFD, 3 of them).
    return Math.max(
      lines,
      whole - (keep ? encoder.encode(text.slice(text.length - keep)).length : 0)
    )
  }
  return {
    push(chunk) {
      let data = chunk
      if (held) {
        data = new Uint8Array(held.length + chunk.length)
        data.set(held)
        data.set(chunk, held.length)
      }
      const cut = cutOf(data)
      held = cut < data.length ? data.slice(cut) : undefined
      return out(cut === data.length ? data : data.subarray(0, cut))
    },
    end() {
      const rest = held
      held = undefined
      return rest ? out(rest) : undefined
    },
  }
}

const PASS_THROUGH: BodyFilter = { push: (chunk) => chunk, end: () => undefined }

/** A {@link BodyFilter} as a `TransformStream` of bytes. */
const filterStream = (filter: BodyFilter): TransformStream<Uint8Array, Uint8Array> =>
  new TransformStream<Uint8Array, Uint8Array>({
    transform(chunk, controller) {
      const out = filter.push(chunk)
      if (out) controller.enqueue(out)
    },
    flush(controller) {
      const out = filter.end()
      if (out) controller.enqueue(out)
    },
  })

/** An unfinished line up to this long is held back whole until the next chunk. */
const HELD_LINE_LIMIT = 4096

/**
 * Creates a {@link Redactor}. Secrets shorter than `minSecretLength` (default 4) are replaced
 * only where they are a whole string or a whole header or query value, never inside text.
 *
 * @example
 * const redactor = createRedactor({ stacks: false })
 * const perRequest = redactor.withSecrets([apiKey, token])
 * console.log(JSON.stringify(perRequest.redact({ err })))
 */
export const createRedactor = (options: RedactorOptions = {}): Redactor => {
  const resolved = resolveRedactorOptions(options)
  const cache = new MatcherCache(resolved.cacheSize, resolved.minSecretLength)
  const header = headerNameSet(resolved.headers)
  const param = paramNameSet(resolved.queryParams)

  const build = (secrets: Iterable<SecretLike> | undefined): Redactor => {
    const matcher = cache.get(secretValues(secrets))
    const rules: WalkRules = {
      matcher,
      header,
      param,
      isSecret: (value) => matcher.exact(value) !== undefined,
      maxStringLength: resolved.maxStringLength,
      stacks: resolved.stacks,
      maxDepth: resolved.maxDepth,
      maxNodes: resolved.maxNodes,
    }
    const redact = (value: unknown): RedactedValue => {
      try {
        return walk(value, rules)
      } catch {
        return UNREDACTABLE
      }
    }
    return {
      secretCount: matcher.size,
      redact,
      redactString: (text) => {
        const out = redact(typeof text === 'string' ? text : String(text))
        return typeof out === 'string' ? out : UNREDACTABLE
      },
      redactError: (error) => {
        let value: unknown = error
        try {
          if (typeof error !== 'object' || error === null || !isErrorLike(error)) {
            value = { name: 'NonError', message: typeof error === 'string' ? error : typeof error }
          }
        } catch {
          value = { name: 'Error', message: UNREDACTABLE }
        }
        const out = redact(value)
        return typeof out === 'object' && out !== null && !Array.isArray(out)
          ? (out as RedactedError)
          : { name: 'Error', message: UNREDACTABLE }
      },
      redactBody: (text) =>
        matcher.size && matcher.test(text) ? matcher.replace(text, text.length).text : text,
      redactBodyBytes: (bytes, text) =>
        matcher.size ? redactRead(matcher, bytes, text, matcher.testBytes(bytes)) : bytes,
      bodyFilter: (observe) =>
        matcher.size || observe ? redactingFilter(matcher, observe) : PASS_THROUGH,
      bodyStream: () =>
        matcher.size ? filterStream(redactingFilter(matcher, undefined)) : new TransformStream(),
      withSecrets: (next) => build(next),
    }
  }

  return build(options.secrets)
}

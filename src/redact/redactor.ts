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
   * A stream transform doing {@link redactBody} on a relayed byte stream (UTF-8), chunk by
   * chunk: a form split across chunks is still found, by holding back only a chunk's tail that
   * could begin one (bounded by the longest form), so the stream stays a stream.
   */
  bodyStream(): TransformStream<Uint8Array, Uint8Array>
  /** {@link bodyStream} as a synchronous filter, for a relay that reads the chunks itself. */
  bodyFilter(): BodyFilter
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

const PASS_THROUGH: BodyFilter = { push: (chunk) => chunk, end: () => undefined }

/**
 * The filter of {@link Redactor.bodyFilter}. A chunk that ends a line is passed on at once (the
 * bytes themselves when nothing in it is secret: an SSE event costs one scan); an unfinished line
 * is held back until the next chunk, unless it is long, when only a tail that could begin a
 * secret's form or run is (so what is held stays bounded).
 */
const redactingFilter = (matcher: SecretMatcher): BodyFilter => {
  if (matcher.size === 0) return PASS_THROUGH
  const decoder = new TextDecoder()
  let held = ''
  // The decoder keeps the start of a character split across chunks: no chunk is then passed on
  // as it came, or those bytes would go out twice.
  let split = false
  const redacted = (text: string): Uint8Array | undefined => {
    const out = matcher.test(text) ? matcher.replace(text, text.length).text : text
    return out ? encoder.encode(out) : undefined
  }
  return {
    push(chunk) {
      const text = held + decoder.decode(chunk, { stream: true })
      let keep = text.length - (text.lastIndexOf('\n') + 1)
      if (keep > HELD_LINE_LIMIT) keep = matcher.pendingSuffix(text)
      const wasSplit = split
      split = endsMidCharacter(chunk)
      if (keep === 0 && held === '' && !wasSplit && !split && !matcher.test(text)) return chunk
      held = keep ? text.slice(text.length - keep) : ''
      return redacted(keep ? text.slice(0, text.length - keep) : text)
    },
    end() {
      const rest = held + decoder.decode()
      held = ''
      return redacted(rest)
    },
  }
}

/** {@link redactingFilter} as a `TransformStream`. */
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

/** Whether `bytes` end inside a UTF-8 sequence. */
const endsMidCharacter = (bytes: Uint8Array): boolean => {
  for (let back = 1; back <= 4 && back <= bytes.length; back++) {
    const byte = bytes[bytes.length - back] as number
    if ((byte & 0xc0) === 0x80) continue // a continuation byte: look further back
    const length = byte >= 0xf0 ? 4 : byte >= 0xe0 ? 3 : byte >= 0xc0 ? 2 : 1
    return length > back
  }
  return false
}

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
      bodyFilter: () => redactingFilter(matcher),
      bodyStream: () => filterStream(redactingFilter(matcher)),
      withSecrets: (next) => build(next),
    }
  }

  return build(options.secrets)
}

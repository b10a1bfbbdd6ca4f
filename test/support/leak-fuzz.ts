/**
 * Generators and checks shared by the leak properties (the redactor alone, and real requests):
 * secrets with regex metacharacters, quotes, backslashes, unicode; trees of objects, arrays,
 * Maps, Sets, errors, AggregateErrors, Headers and URLs embedding them in every form; and a
 * check that no run of 5 characters of any secret survives in any form. Web APIs only.
 */
import fc from 'fast-check'
import { base64, bytesToBase64, formEncode, jsonBody } from '../unit/redact-helpers.ts'

const env = (globalThis as { process?: { env?: Record<string, string | undefined> } }).process?.env
export const RUNS = Number(env?.KEYLINE_FUZZ_RUNS) || 2000
/**
 * Generous per-test timeout (a guard against a hang, not a measure of speed): 2000 runs through
 * real requests took 30-75 s on a loaded 2-core machine, and a large KEYLINE_FUZZ_RUNS is not cut short.
 */
export const TIMEOUT = Math.max(180_000, RUNS * 60)

let calls = 0
/**
 * Every 100th call, a turn of the event loop (a timer): a property whose runs need no network
 * (`app.request()` of a route that throws) resolves only promises, so with many runs it kept
 * the loop from reading its sockets for minutes; the stubs closed their idle kept-alive
 * connections meanwhile (after 65 s) unseen, and the next test's first request went out on a
 * closed one (`fetch failed: other side closed`).
 */
export const breathe = (): Promise<void> | undefined =>
  ++calls % 100 === 0 ? new Promise((resolve) => setTimeout(resolve, 0)) : undefined

const SECRET_CHARS = Array.from(
  'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789.*+?^$' +
    '{}()|[]\\/"\'%-_~!@#&=;,<> é中😀\n\t'
)
const FILLER_CHARS = Array.from('·¦¬°±§')

export const secretArb = fc
  .array(fc.noBias(fc.integer({ min: 0, max: SECRET_CHARS.length - 1 })), {
    minLength: 4,
    maxLength: 40,
  })
  .map((idx) => idx.map((i) => SECRET_CHARS[i]).join(''))

const fillerArb = fc
  .array(fc.integer({ min: 0, max: FILLER_CHARS.length - 1 }), { maxLength: 4 })
  .map((idx) => idx.map((i) => FILLER_CHARS[i]).join(''))

export const FORMS = [
  'raw',
  'uri',
  'uri-plus',
  'form',
  'json',
  'json2',
  'b64',
  'b64url',
  'b64uri',
  'basic',
] as const
type Form = (typeof FORMS)[number]
/** Forms whose result is ASCII, so they can go in a `Headers` value. */
const ASCII_FORMS: readonly Form[] = ['uri', 'uri-plus', 'form', 'b64', 'b64url', 'b64uri', 'basic']

const hexOf = (text: string): string =>
  Array.from(utf8.encode(text), (byte) => byte.toString(16).padStart(2, '0')).join('')

/**
 * A credential as keys and tokens are: 8 to 60 printable ASCII characters, no spaces, and no
 * `"` or `\\` (which JSON would escape into two characters, breaking a run).
 */
export const asciiSecretArb = fc
  .array(
    fc.integer({ min: 0x21, max: 0x7e }).filter((c) => c !== 0x22 && c !== 0x5c),
    { minLength: 8, maxLength: 60 }
  )
  .map((codes) => String.fromCharCode(...codes))

/**
 * Forms in which only runs of 8 or more characters are promised to be caught (a truncated
 * key keeps its last 4, a wrapped one may end in a short line): checked by {@link longLeaks}.
 */
export const LONG_FORMS = ['upper', 'hex', 'HEX', 'wrapped', 'truncated'] as const
export type LongForm = (typeof LONG_FORMS)[number]

/** The host of the `url` shape's URL (a secret goes in its query): filler, not secret text. */
const URL_HOST = 'example.test'
const URL_FILLER = `https://${URL_HOST}/p?data=`

/** `secret` in a {@link LongForm}; `width` (1 or more) is where a wrapped form breaks. */
export const embedLong = (secret: string, form: LongForm, width: number): string => {
  switch (form) {
    case 'upper':
      // Runs are matched case-insensitively from 8 characters on; a shorter secret only whole.
      return secret.length >= 8 ? secret.replace(/[a-z]/g, (c) => c.toUpperCase()) : secret
    case 'hex':
      return hexOf(secret)
    case 'HEX':
      return hexOf(secret).toUpperCase()
    case 'wrapped': {
      // Wrapped at any width, as a PEM block or a terminal would, or into pieces shorter than a run.
      const lines = Array.from(secret).reduce<string[]>((acc, char, i) => {
        if (i % width === 0) acc.push('')
        acc[acc.length - 1] += char
        return acc
      }, [])
      return lines.join(width % 2 ? '\r\n' : '\n')
    }
    case 'truncated':
      // As providers print a key: its start, an ellipsis, its last four characters.
      return secret.length >= 16 ? `${secret.slice(0, 12)}...${secret.slice(-4)}` : secret
  }
}

export const embed = (secret: string, form: Form, pre: string): string => {
  switch (form) {
    case 'raw':
      return secret
    case 'uri':
      return encodeURIComponent(secret)
    case 'uri-plus':
      return encodeURIComponent(secret).replace(/%20/g, '+')
    case 'form':
      return formEncode(secret)
    case 'json':
      return JSON.stringify({ k: secret })
    case 'json2':
      return JSON.stringify(JSON.stringify({ k: secret }))
    case 'b64':
      return base64(`${pre}${secret}${pre}`)
    case 'b64url':
      return base64(`${pre}${secret}`).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '')
    case 'b64uri':
      return encodeURIComponent(base64(`${pre}${secret}.`))
    case 'basic':
      return `Basic ${base64(`user${pre}:${secret}`)}`
  }
}

/** A tree shape; leaves pick a secret (by index) and a form, containers hold children. */
export type Shape =
  | { kind: 'leaf'; secret: number; form: Form; pre: string; post: string }
  | { kind: 'object' | 'array' | 'set' | 'map'; children: Shape[] }
  | { kind: 'key'; leaf: Shape; child: Shape }
  | { kind: 'error' | 'aggregate'; message: Shape; children: Shape[] }
  | { kind: 'headers' | 'url'; leaf: Shape }

const leafArb: fc.Arbitrary<Shape> = fc.record({
  kind: fc.constant('leaf' as const),
  secret: fc.nat({ max: 3 }),
  form: fc.constantFrom(...FORMS),
  pre: fillerArb,
  post: fillerArb,
})
const asciiLeafArb: fc.Arbitrary<Shape> = leafArb.chain((leaf) =>
  fc.constantFrom(...ASCII_FORMS).map((form) => ({ ...leaf, form }) as Shape)
)

export const { shape } = fc.letrec<{ shape: Shape }>((tie) => ({
  shape: fc.oneof(
    { depthSize: 'small', withCrossShrink: true },
    leafArb,
    fc.record({
      kind: fc.constantFrom('object' as const, 'array' as const, 'set' as const, 'map' as const),
      children: fc.array(tie('shape'), { maxLength: 3 }),
    }),
    fc.record({ kind: fc.constant('key' as const), leaf: leafArb, child: tie('shape') }),
    fc.record({
      kind: fc.constantFrom('error' as const, 'aggregate' as const),
      message: leafArb,
      children: fc.array(tie('shape'), { maxLength: 2 }),
    }),
    fc.record({ kind: fc.constantFrom('headers' as const, 'url' as const), leaf: asciiLeafArb })
  ),
}))

export const build = (s: Shape, secrets: readonly string[]): unknown => {
  switch (s.kind) {
    case 'leaf': {
      const secret = secrets[s.secret % secrets.length] as string
      return `${s.pre}${embed(secret, s.form, s.pre)}${s.post}`
    }
    case 'object':
      return Object.fromEntries(s.children.map((c, i) => [`f${i}`, build(c, secrets)]))
    case 'array':
      return s.children.map((c) => build(c, secrets))
    case 'set':
      return new Set(s.children.map((c) => build(c, secrets)))
    case 'map':
      return new Map(s.children.map((c, i) => [i % 2 ? `k${i}` : { i }, build(c, secrets)]))
    case 'key':
      return { [String(build(s.leaf, secrets))]: build(s.child, secrets) }
    case 'error': {
      const [cause, ...rest] = s.children.map((c) => build(c, secrets))
      const err = new Error(String(build(s.message, secrets)), { cause }) as Error & {
        extra?: unknown
      }
      err.extra = rest
      return err
    }
    case 'aggregate':
      return new AggregateError(
        s.children.map((c) => build(c, secrets)),
        String(build(s.message, secrets))
      )
    case 'headers': {
      // Header values must be ASCII: pad with the two printable ASCII characters no secret uses.
      const leaf = s.leaf as Extract<Shape, { kind: 'leaf' }>
      const ascii = {
        ...leaf,
        pre: '`'.repeat(leaf.pre.length),
        post: ':'.repeat(leaf.post.length),
      }
      return new Headers({ 'x-data': String(build(ascii, secrets)) })
    }
    case 'url':
      return new URL(`${URL_FILLER}${String(build(s.leaf, secrets))}`)
  }
}

const utf8 = new TextEncoder()

/** The characters every base64 alignment of `bytes` fixes (edges that mix in neighbours dropped). */
const stableBase64 = (bytes: Uint8Array): string[] =>
  [0, 1, 2].map((offset) => {
    const shifted = new Uint8Array(offset + bytes.length)
    shifted.set(bytes, offset)
    return bytesToBase64(shifted).slice(
      Math.ceil((8 * offset) / 6),
      Math.floor((8 * shifted.length) / 6)
    )
  })

/** Every text that must not occur in the serialized output for one 5-character run `w`. */
const forbidden = (w: string): string[] => {
  const out = [w, encodeURIComponent(w), encodeURIComponent(w).replace(/%20/g, '+'), formEncode(w)]
  out.push(jsonBody(w), jsonBody(jsonBody(w)))
  for (const fragment of stableBase64(utf8.encode(w))) {
    out.push(
      fragment,
      fragment.replace(/\+/g, '-').replace(/\//g, '_'),
      encodeURIComponent(fragment)
    )
  }
  // The output is itself serialized as JSON, so each form shows escaped once more.
  return out.filter((f) => f.length >= 5).map(jsonBody)
}

/** Every run of 5 characters (code points) of `secret`, or the secret itself if shorter. */
const runs = (secret: string): string[] => {
  const chars = Array.from(secret)
  if (chars.length <= 5) return [secret]
  return chars.slice(0, -4).map((_, i) => chars.slice(i, i + 5).join(''))
}

/** Every run of 8 ASCII characters of `secret` (what is matched case-insensitively), lower-cased. */
const longRuns = (secret: string): string[] => {
  const chars = Array.from(secret)
  const out: string[] = []
  for (let i = 0; i + 8 <= chars.length; i++) {
    const run = chars.slice(i, i + 8).join('')
    if (/^[\x21-\x7e]{8}$/.test(run)) out.push(run.toLowerCase())
  }
  return out
}

export const leaks = (serialized: string, secrets: readonly string[]): string[] => {
  // A marker next to a fingerprint (`…WXYZ[REDACTED]`) is not secret text: keep it from
  // forming a run with the fingerprint's 4 visible characters. Nor is the URL a secret is put
  // in (its letters can be a base64 form's, `xample` one of `qjjexAAA`'s).
  const text = serialized.replaceAll('[REDACTED]', '¤').replaceAll(URL_HOST, '¤')
  const found: string[] = []
  for (const secret of secrets) {
    for (const run of runs(secret)) {
      for (const form of forbidden(run)) if (text.includes(form)) found.push(form)
    }
  }
  return found
}

/**
 * Every run of 8 printable ASCII characters of a secret, or its hex form, found in
 * `serialized` case-insensitively and with line breaks (raw or JSON-escaped) taken out.
 */
export const longLeaks = (serialized: string, secrets: readonly string[]): string[] => {
  const folded = serialized.replace(/\\r|\\n|\r|\n/g, '').toLowerCase()
  const found: string[] = []
  for (const secret of secrets) {
    for (const run of longRuns(secret)) {
      if (folded.includes(run)) found.push(run)
      const hex = hexOf(run)
      if (folded.includes(hex)) found.push(hex)
    }
  }
  return found
}

/**
 * Ways a JSON writer may escape a key's characters as `\uXXXX` (any client decodes them back):
 * every one, lower- or upper-case hex; every other one; a random mix; and every one inside a
 * JSON document that is itself a JSON string (`\\uXXXX`).
 */
export const ESCAPED_FORMS = ['escaped', 'ESCAPED', 'half', 'mixed', 'twice'] as const
export type EscapedForm = (typeof ESCAPED_FORMS)[number]

const unicodeEscape = (char: string, upper: boolean): string => {
  const digits = char.charCodeAt(0).toString(16).padStart(4, '0')
  return `\\u${upper ? digits.toUpperCase() : digits}`
}

/**
 * The body of a JSON string (no quotes) that decodes to `secret`, written in `form`; `mask`
 * says which characters a `mixed` form escapes (cycled).
 */
export const embedEscaped = (
  secret: string,
  form: EscapedForm,
  mask: readonly boolean[] = [true]
): string => {
  const units = secret.split('')
  const escapeIf = (pick: (i: number) => boolean, upper = false): string =>
    units
      .map((char, i) => (pick(i) ? unicodeEscape(char, upper) : JSON.stringify(char).slice(1, -1)))
      .join('')
  switch (form) {
    case 'escaped':
      return escapeIf(() => true)
    case 'ESCAPED':
      return escapeIf(() => true, true)
    case 'half':
      return escapeIf((i) => i % 2 === 0)
    case 'mixed':
      return escapeIf((i) => mask[i % Math.max(1, mask.length)] ?? true, mask[0] ?? false)
    case 'twice':
      return JSON.stringify(`{"k":"${escapeIf(() => true)}"}`).slice(1, -1)
  }
}

/**
 * Everything a JSON client reads from `once`, the string a JSON body written by
 * {@link embedEscaped} in `form` decodes to: `once` itself, and for `twice` also what the JSON
 * document in it decodes to (a trailing text after it is left as it is).
 */
export const decodeEscaped = (once: string, form: EscapedForm): string => {
  if (form !== 'twice') return once
  const end = once.lastIndexOf('}') + 1
  return `${once}\n${JSON.stringify(JSON.parse(once.slice(0, end)))}${once.slice(end)}`
}

/**
 * `text` with every `\uXXXX` escape (any case, behind any number of backslashes) turned into
 * its character: what any JSON client, decoding once or more, may read out of it.
 */
export const unescapeAll = (text: string): string =>
  text.replace(/\\+u([0-9a-fA-F]{4})/g, (_, digits: string) =>
    String.fromCharCode(Number.parseInt(digits, 16))
  )

import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { escapeAt, unfinishedEscape } from '../../src/redact/json-escape.ts'
import { createRedactor } from '../../src/redact/redactor.ts'
import { decodeEscaped, embedEscaped } from '../support/leak-fuzz.ts'
import { randomSecret } from './redact-helpers.ts'

/**
 * Secrets written with JSON `\uXXXX` escapes, as a JSON writer may write any character: a JSON
 * client decodes them back, so the redactor must find them fully, partly or upper-case escaped,
 * whole or as a run of 8 of their characters, in one body or across the chunks of a stream.
 */

const encoder = new TextEncoder()
const decoder = new TextDecoder()

/** What a JSON client reads from the `text` field of a redacted body. */
const readText = (body: string): string => (JSON.parse(body) as { text: string }).text

/** Runs `chunks` through a body filter and returns all it let out. */
const filtered = (
  filter: { push(c: Uint8Array): Uint8Array | undefined; end(): Uint8Array | undefined },
  chunks: Uint8Array[]
): string => {
  let out = ''
  for (const chunk of chunks) {
    const piece = filter.push(chunk)
    if (piece) out += decoder.decode(piece, { stream: true })
  }
  const rest = filter.end()
  return rest ? out + decoder.decode(rest) : out
}

describe('secrets written with \\u escapes', () => {
  const secret = `sk-ant-api03-${randomSecret(40)}`
  const redactor = createRedactor().withSecrets([secret])

  it.each([
    ['fully escaped', 'escaped'],
    ['escaped in upper-case hex', 'ESCAPED'],
    ['half escaped', 'half'],
  ] as const)('a key %s is replaced by its fingerprint, and JSON.parse finds no key', (_, form) => {
    const body = `{"text":"the key ${embedEscaped(secret, form)} was rejected"}`
    expect(JSON.parse(body).text).toContain(secret)
    const text = readText(redactor.redactBody(body))
    expect(text).toBe(`the key …${secret.slice(-4)} was rejected`)
  })

  it('a key escaped inside a JSON string once more (\\\\uXXXX) is replaced', () => {
    const body = `{"text":"${embedEscaped(secret, 'twice')}"}`
    const out = readText(redactor.redactBody(body))
    expect(decodeEscaped(out, 'twice')).not.toContain(secret.slice(0, 8))
    expect(out).toBe(`{"k":"…${secret.slice(-4)}"}`)
  })

  it('a run of 8 characters of a key, any mix of escapes and case, is replaced', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: secret.length - 8 }),
        fc.integer({ min: 8, max: secret.length }),
        fc.array(fc.boolean(), { minLength: 1, maxLength: 9 }),
        fc.boolean(),
        (from, length, mask, upper) => {
          const run = secret.slice(from, from + length)
          if (run.length < 8) return
          const written = embedEscaped(upper ? run.toUpperCase() : run, 'mixed', mask)
          const text = readText(redactor.redactBody(`{"text":"<${written}>"}`))
          expect(text.toLowerCase()).not.toContain(run.slice(0, 8).toLowerCase())
          expect(text).toMatch(/^<….{4}>$/u)
        }
      ),
      { numRuns: 500 }
    )
  })

  it('a short secret (4 to 7 characters) is replaced only whole, also escaped', () => {
    const short = randomSecret(6)
    const r = createRedactor().withSecrets([short])
    const escaped = embedEscaped(short, 'escaped')
    expect(readText(r.redactBody(`{"text":"(${escaped})"}`))).toBe('([REDACTED])')
    // Five of its six characters are no secret.
    const part = embedEscaped(short.slice(0, 5), 'escaped')
    expect(readText(r.redactBody(`{"text":"(${part})"}`))).toBe(`(${short.slice(0, 5)})`)
  })

  it('a secret with non-ASCII characters, escaped as ensure_ascii writes it, is replaced', () => {
    const unicode = `tok-é中😀-${randomSecret(20)}`
    const r = createRedactor().withSecrets([unicode])
    const body = JSON.stringify({ text: unicode }).replace(
      /[^\x20-\x7e]/g,
      (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`
    )
    const mixed = embedEscaped(unicode, 'half')
    for (const written of [body, `{"text":"${mixed}"}`]) {
      expect(readText(r.redactBody(written))).toBe(`…${unicode.slice(-4)}`)
    }
  })

  it('redactString and redact (logs, errors) catch it too', () => {
    const line = `upstream said {"error":"bad key ${embedEscaped(secret, 'ESCAPED')}"}`
    expect(redactor.redactString(line)).toBe(
      `upstream said {"error":"bad key …${secret.slice(-4)}"}`
    )
    const out = JSON.stringify(redactor.redact({ message: line }))
    expect(out.toLowerCase()).not.toContain('\\\\u0073\\\\u006b')
  })

  it('text without escapes is redacted as before, and text without a secret is left alone', () => {
    const plain = `{"text":"key ${secret} and \\n a line"}`
    expect(redactor.redactBody(plain)).toBe(`{"text":"key …${secret.slice(-4)} and \\n a line"}`)
    const clean = '{"text":"caf\\u00e9 \\u4e2d\\u6587 \\"quoted\\" \\\\ back"}'
    expect(redactor.redactBody(clean)).toBe(clean)
  })

  it('an escaped key split across the chunks of a stream, at any cut, never goes out', () => {
    // A line longer than the filter holds whole, so only its tail can be held back.
    const filler = 'x'.repeat(5000)
    const line = `data: {"text":"${filler} ${embedEscaped(secret, 'escaped')} tail"}\n\n`
    const bytes = encoder.encode(line)
    const start = line.indexOf('\\u')
    for (let cut = start - 8; cut < start + 6 * secret.length + 8; cut++) {
      for (const second of [cut + 1, cut + 7, cut + 100]) {
        const chunks = [bytes.slice(0, cut), bytes.slice(cut, second), bytes.slice(second)]
        const out = filtered(redactor.bodyFilter(), chunks)
        expect(out).toBe(redactor.redactBody(line))
        const text = readText(out.slice('data: '.length).trim())
        expect(text.endsWith(` …${secret.slice(-4)} tail`)).toBe(true)
      }
    }
  })

  it('a stream holds back an unfinished escape only while it can still begin a secret', () => {
    const filler = 'y'.repeat(5000)
    const filter = redactor.bodyFilter()
    const first = filter.push(encoder.encode(`data: ${filler} \\u00`))
    // The last characters may become an `s`, the key's first: held.
    expect(decoder.decode(first).endsWith(' ')).toBe(true)
    // The line ends in `~d`: `d` is in every key's hex form (`-` is 2d), `~` in no key.
    const out = filter.push(encoder.encode('41 ~d\n'))
    // The escape goes out once finished; the line's last letter, which a run may go on from
    // across the line break, waits for the next chunk (here, the end). (A random key holding
    // `en` held `end`'s last two letters: the line's end was the key's luck.)
    expect(decoder.decode(out)).toBe('\\u0041 ~')
    expect(decoder.decode(filter.end())).toBe('d\n')
  })
})

describe('a replacement next to an escape', () => {
  // A run of a secret's characters may begin or end at the letter or digits of an escape that
  // stands for another character; the replacement takes the whole escape, never half of one.
  it.each([
    ['begins at the n of \\n', 'n!!!!!!!!', '{"text":"\\n!!!!!!!!\\n"}', '[REDACTED]\n'],
    ['begins at the r of \\r', 'r12345678', '{"text":"a\\r12345678"}', 'a[REDACTED]'],
    [
      'begins at the digits of \\u00e9',
      '00e9abcdefgh',
      '{"text":"x\\u00e9abcdefgh"}',
      'x[REDACTED]',
    ],
    ['ends at a backslash', 'abcdefgh\\', '{"text":"abcdefgh\\"z"}', '[REDACTED]z'],
    ['ends inside \\u0041', 'zyxwvut\\u00', '{"text":"zyxwvut\\u0041!"}', '[REDACTED]!'],
  ])('%s: the body stays JSON, the whole escape replaced', (_name, secret, body, text) => {
    expect(readText(createRedactor().withSecrets([secret]).redactBody(body))).toBe(text)
  })

  it.each([
    ['\\n', 'n!!!!!!!!', '\\n!!', '!!!!!!'],
    ['\\u0041', '0041abcdefgh', '\\u0041ab', 'cdefgh'],
  ])(
    'a long line of a stream cut just after %s: the held tail begins with the escape',
    (_name, secret, before, after) => {
      // A line over 4 KiB is not held whole: only a tail that could begin a secret is.
      const long = 'x'.repeat(5000)
      const chunks = [`{"text":"${long}${before}`, `${after}"}\n`].map((c) => encoder.encode(c))
      const out = filtered(createRedactor().withSecrets([secret]).bodyFilter(), chunks)
      expect(readText(out.trimEnd())).toBe(`${long}[REDACTED]`)
    }
  )

  it('an escaped backslash before a run is no escape of it', () => {
    const out = createRedactor().withSecrets(['n!!!!!!!!']).redactBody('{"text":"\\\\n!!!!!!!!"}')
    expect(readText(out)).toBe('\\[REDACTED]')
  })
})

describe('the JSON escape decoder', () => {
  it('reads \\uXXXX in either case, \\\\uXXXX, the short escapes, and nothing else', () => {
    const at = (text: string): [number, number] | undefined => {
      const packed = escapeAt(text, 0)
      return packed < 0 ? undefined : [packed >>> 3, packed & 7]
    }
    expect(at('\\u0041')).toEqual([0x41, 6])
    expect(at('\\u00aF')).toEqual([0xaf, 6])
    expect(at('\\\\u0041')).toEqual([0x41, 7])
    expect(at('\\"')).toEqual([0x22, 2])
    expect(at('\\/')).toEqual([0x2f, 2])
    expect(at('\\\\')).toEqual([0x5c, 2])
    expect(at('\\n')).toEqual([0x0a, 2])
    expect(at('\\u00g1')).toBeUndefined()
    expect(at('\\x41')).toBeUndefined()
    expect(at('A')).toBeUndefined()
  })

  it('says how much of a text ends in an unfinished escape', () => {
    expect(unfinishedEscape('abc\\')).toBe(1)
    expect(unfinishedEscape('abc\\u')).toBe(2)
    expect(unfinishedEscape('abc\\u00A')).toBe(5)
    expect(unfinishedEscape('abc\\\\u0')).toBe(4)
    expect(unfinishedEscape('abc\\u0041')).toBe(0)
    expect(unfinishedEscape('abc')).toBe(0)
  })
})

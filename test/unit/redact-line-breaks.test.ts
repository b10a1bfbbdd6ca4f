import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { createRedactor } from '../../src/redact/redactor.ts'
import { longLeaks } from '../support/leak-fuzz.ts'
import { randomSecret } from './redact-helpers.ts'

/**
 * A key that line breaks cut into pieces shorter than a run (8 characters): wrapped at any
 * width, with raw or JSON-escaped breaks, or a fragment of it either side of one break in long
 * lines. Each way the redactor reads a text (a string, a body, its bytes, a stream cut anywhere)
 * replaces it, as it replaces the unbroken key.
 */
const encoder = new TextEncoder()
const decoder = new TextDecoder()
const BREAKS = ['\n', '\r\n', '\\n', '\\r\\n', '\n\n'] as const
/**
 * Line breaks a stream joins a run across, wherever it is cut: any but a blank line (after one,
 * what came goes out at once, so that an SSE event is never held).
 */
const STREAM_BREAKS = ['\n', '\r\n', '\\n', '\\r\\n', '\\n\n', '\\r\n', '\\n\\n'] as const

/** `secret` cut every `width` characters, joined by `separator`. */
const wrap = (secret: string, width: number, separator: string): string =>
  (secret.match(new RegExp(`.{1,${width}}`, 'g')) ?? []).join(separator)

/** Runs `chunks` through a body filter, as a stream relays them. */
const filtered = (
  filter: ReturnType<ReturnType<typeof createRedactor>['bodyFilter']>,
  chunks: Uint8Array[]
): string => {
  let out = ''
  for (const chunk of chunks) {
    const sent = filter.push(chunk)
    if (sent) out += typeof sent === 'string' ? sent : decoder.decode(sent, { stream: true })
  }
  const rest = filter.end()
  if (rest) out += typeof rest === 'string' ? rest : decoder.decode(rest)
  return out
}

describe('redaction across line breaks', () => {
  const key = `sk-ant-api03-${randomSecret(93)}-${randomSecret(6)}AA`
  const redactor = createRedactor().withSecrets([key])

  it('replaces a key wrapped at every width from 1, in a string, a body and its bytes', () => {
    for (let width = 1; width <= 12; width++) {
      for (const separator of BREAKS) {
        const text = `{"text":"key ${wrap(key, width, separator)} rejected"}`
        const body = redactor.redactBody(text)
        expect(longLeaks(body, [key]), `${width} ${JSON.stringify(separator)}`).toEqual([])
        expect(body).toContain('…')
        expect(longLeaks(redactor.redactString(text), [key])).toEqual([])
        const bytes = redactor.redactBodyBytes(encoder.encode(text), text)
        expect(typeof bytes === 'string' ? bytes : decoder.decode(bytes)).toBe(body)
      }
    }
  })

  it('replaces 8 or more characters of a key either side of one break in long lines', () => {
    for (let cut = 1; cut < 8; cut++) {
      for (const separator of BREAKS) {
        const piece = key.slice(20, 20 + cut) + separator + key.slice(20 + cut, 28)
        const text = `${'x '.repeat(20)}${piece}${' y'.repeat(20)}`
        expect(longLeaks(redactor.redactBody(text), [key]), `${cut}`).toEqual([])
        expect(longLeaks(redactor.redactString(text), [key])).toEqual([])
      }
    }
  })

  it('still replaces a secret that itself holds line breaks, however short its lines', () => {
    for (const width of [2, 3, 16]) {
      const secret = wrap(randomSecret(30), width, '\n')
      const multiline = createRedactor().withSecrets([secret])
      const json = JSON.stringify(secret).slice(1, -1)
      // As it is, JSON-escaped, and with a character as a `\u` escape (the escape-aware scan).
      const unicode = `\\u${secret.charCodeAt(0).toString(16).padStart(4, '0')}${json.slice(1)}`
      for (const text of [`x ${secret} y`, `{"text":"${json}"}`, `{"text":"${unicode}"}`]) {
        const out = multiline.redactBody(text)
        expect(out, `${width} ${text}`).not.toBe(text)
        expect(longLeaks(out, [secret])).toEqual([])
      }
    }
  })

  it('leaves 7 characters either side of a break, and text that only shares pairs with the key', () => {
    const seven = `${'x '.repeat(10)}${key.slice(20, 27)}\n${' y'.repeat(10)}`
    expect(redactor.redactBody(seven)).toBe(seven)
    const prose = 'line one\nline two\r\n\\nthe end\n'
    expect(redactor.redactBody(prose)).toBe(prose)
  })

  it('replaces a wrapped key, or its hex form, in a stream, wherever its chunks are cut', () => {
    const hex = Array.from(encoder.encode(key), (b) => b.toString(16).padStart(2, '0')).join('')
    fc.assert(
      fc.property(
        fc.constantFrom(key, key.toUpperCase(), hex.slice(10, 60)),
        fc.integer({ min: 1, max: 12 }),
        fc.constantFrom(...STREAM_BREAKS),
        fc.array(fc.double({ min: 0, max: 1, noNaN: true }), { maxLength: 8 }),
        (value, width, separator, cuts) => {
          const text = `data: {"text":"${wrap(value, width, separator)}"}\n\n`
          const bytes = encoder.encode(text)
          const points = [...new Set(cuts.map((c) => Math.floor(c * bytes.length)))].sort(
            (a, b) => a - b
          )
          const chunks = [0, ...points].map((from, i) =>
            bytes.slice(from, points[i] ?? bytes.length)
          )
          const out = filtered(redactor.bodyFilter(), chunks)
          expect(longLeaks(out, [key])).toEqual([])
          expect(out).toBe(redactor.redactBody(text))
        }
      ),
      { numRuns: 2000 }
    )
  })

  it('holds back a line that ends in a key’s character until the next chunk, never after a blank line', () => {
    const filter = redactor.bodyFilter()
    const sent = (text: string): string => decoder.decode(filter.push(encoder.encode(text)))
    const last = key.at(-1) as string
    // An SSE event ends with a blank line: it goes out whole, whatever it ends in.
    expect(sent(`data: ${last}\n\n`)).toBe(`data: ${last}\n\n`)
    expect(sent(': ping\r\n\r\n')).toBe(': ping\r\n\r\n')
    // One line break: the character a run may go on from waits for the next chunk.
    expect(sent(`text ${last}\n`)).toBe('text ')
    expect(sent('}\n')).toBe(`${last}\n}\n`)
  })
})

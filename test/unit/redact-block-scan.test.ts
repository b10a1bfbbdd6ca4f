import { describe, expect, it } from 'vitest'
import { compileMatcher } from '../../src/redact/matcher.ts'
import { createRedactor } from '../../src/redact/redactor.ts'
import { secretForms } from '../../src/redact/secret-forms.ts'
import { randomSecret } from './redact-helpers.ts'

const encoder = new TextEncoder()
const decoder = new TextDecoder()
/** What the stream filter asks: the bytes first, the text when they cannot tell. */
const testBytes = (matcher: ReturnType<typeof compileMatcher>, bytes: Uint8Array): boolean =>
  matcher.testBytes(bytes) ?? matcher.test(decoder.decode(bytes))
/** Filler that holds no secret: SSE-like JSON with token-sized words. */
const filler = (length: number): string =>
  `data: {"type":"content_block_delta","delta":{"text":"${randomSecret(length, 'abcdefghij klmnop ')}"}}\n`

describe('matcher: the block scan before the regular expressions', () => {
  // A `/` and a `+` in its base64 make its percent-encoded and escaped forms differ.
  const secret = `sk-tst-${randomSecret(40)}?>?~`
  const matcher = compileMatcher([secret, `tok_${randomSecret(30)}`], 4)

  it('finds every form of a secret at every alignment, from the text and from the bytes', () => {
    const forms = secretForms(secret, 4)
    expect(forms.length).toBeGreaterThanOrEqual(4)
    for (const form of forms) {
      for (let pad = 0; pad < 8; pad++) {
        const text = `${filler(40).slice(0, 30 + pad)}${form}${filler(20)}`
        expect(matcher.test(text), form).toBe(true)
        // At every offset in its memory too (a view of a larger buffer, as a network chunk is).
        const bytes = encoder.encode(text)
        for (let offset = 0; offset < 4; offset++) {
          const memory = new Uint8Array(bytes.length + 4)
          memory.set(bytes, offset)
          const view = memory.subarray(offset, offset + bytes.length)
          expect(testBytes(matcher, view), `${form} at ${offset}`).toBe(true)
        }
      }
    }
  })

  it('finds a form however far it lies from the first block of the secret the scan meets', () => {
    // The bytes' scan reads the forms' expression around each block of a secret it finds, not
    // the whole chunk at the first: a form past that first block, or across the edge of what
    // was read around it, is still found.
    const forms = secretForms(secret, 4)
    const longest = Math.max(...forms.map((form) => form.length))
    const block = secret.slice(20, 24) // one block of the secret: no run, no form
    for (const form of forms) {
      for (const gap of [0, 1, longest - 5, longest - 4, longest - 1, longest, 2 * longest, 5000]) {
        for (let pad = 0; pad < 5; pad++) {
          const before = `${'x'.repeat(pad)}${block}${' '.repeat(gap)}`
          const text = `${before}${form} ${block}`
          expect(testBytes(matcher, encoder.encode(text)), `${form}, gap ${gap}`).toBe(true)
          expect(matcher.test(text), `${form}, gap ${gap}`).toBe(true)
          expect(testBytes(matcher, encoder.encode(`${before}${block}`))).toBe(false)
        }
      }
    }
  })

  it('finds a run of the secret at every alignment, and nothing in text without one', () => {
    // A run of exactly 8 characters (the shortest replaced), at each of the scan's alignments.
    for (let pad = 0; pad < 12; pad++) {
      const text = `${'x'.repeat(pad)}${filler(50)}${secret.slice(12, 20).toUpperCase()}${filler(30)}`
      expect(matcher.testBytes(encoder.encode(text)), `pad ${pad}`).toBe(true)
      expect(matcher.test(text), `pad ${pad}`).toBe(true)
      // Ending the chunk, and starting it.
      const tail = `${'x'.repeat(pad)}${filler(50)}${secret.slice(12, 20)}`
      expect(matcher.testBytes(encoder.encode(tail)), `end, pad ${pad}`).toBe(true)
      expect(matcher.testBytes(encoder.encode(`${secret.slice(pad, pad + 8)}${filler(9)}`))).toBe(
        true
      )
    }
    for (let i = 0; i < 50; i++) {
      const text = filler(4000)
      expect(matcher.test(text)).toBe(false)
      expect(testBytes(matcher, encoder.encode(text))).toBe(false)
    }
  })

  it('sees a `\\u` escape wherever it sits: across two words, in the last bytes', () => {
    for (let pad = 0; pad < 8; pad++) {
      for (const written of ['\\u0041', '\\\\u0041', '\\u']) {
        const text = `${'x'.repeat(pad)}${written}`
        expect(matcher.testBytes(encoder.encode(text)), JSON.stringify(text)).toBeUndefined()
        expect(matcher.testBytes(encoder.encode(`${text}${'y'.repeat(pad)}`))).toBeUndefined()
      }
      // A backslash before anything else is no escape.
      expect(matcher.testBytes(encoder.encode(`${'x'.repeat(pad)}\\n\\"\\\\`))).toBe(false)
    }
  })

  it('decides from the bytes what the text scan decides, whatever the bytes hold', () => {
    const forms = secretForms(secret, 4)
    const pieces = (): string => {
      const form = forms[Math.floor(Math.random() * forms.length)] as string
      const from = Math.floor(Math.random() * form.length)
      const choices = [
        filler(Math.floor(Math.random() * 60)),
        form.slice(from, from + 3 + Math.floor(Math.random() * 10)),
        secret.slice(from % 30, (from % 30) + 6 + Math.floor(Math.random() * 4)).toUpperCase(),
        '\\',
        '\\u00',
        'é',
        '\n',
      ]
      return choices[Math.floor(Math.random() * choices.length)] as string
    }
    let decided = 0
    let found = 0
    for (let i = 0; i < 3000; i++) {
      const text = Array.from({ length: 1 + Math.floor(Math.random() * 12) }, pieces).join('')
      const bytes = encoder.encode(text)
      const offset = i % 4
      const memory = new Uint8Array(bytes.length + 4)
      memory.set(bytes, offset)
      const answer = matcher.testBytes(memory.subarray(offset, offset + bytes.length))
      if (answer === undefined) continue
      decided++
      if (answer) found++
      expect(answer, JSON.stringify(text)).toBe(matcher.test(text))
    }
    expect(decided).toBeGreaterThan(500)
    expect(found).toBeGreaterThan(50)
  })

  it('finds no long secret in copies that almost match it, each block of them in the map', () => {
    const long = randomSecret(600)
    const near = compileMatcher([long], 8)
    // Copies of the secret, each with its last character changed: every block of it is found.
    const text = Array.from({ length: 50 }, () => `${long.slice(0, -1)}#`).join(' ')
    const bytes = encoder.encode(text)
    expect(near.testBytes(bytes)).toBe(true) // its runs are there
    const whole = compileMatcher([`${long}!`], 700)
    expect(whole.testBytes(bytes)).toBe(false)
    expect(whole.test(text)).toBe(false)
  })

  it('decides from the bytes a secret of 8 characters at every alignment, not one of 7', () => {
    const eightValue = randomSecret(8)
    const sevenValue = randomSecret(7)
    const bytes8 = compileMatcher([eightValue], 4)
    const bytes7 = compileMatcher([sevenValue], 4)
    for (let pad = 0; pad < 12; pad++) {
      const text = (value: string): string => `${'x'.repeat(pad)}${filler(20)}${value}${filler(9)}`
      expect(bytes8.testBytes(encoder.encode(text(eightValue))), `pad ${pad}`).toBe(true)
      expect(bytes8.testBytes(encoder.encode(text(''))), `pad ${pad}`).toBe(false)
      // Too short for a block at every fifth position: the text decides, and finds it.
      expect(bytes7.testBytes(encoder.encode(text(sevenValue)))).toBeUndefined()
      expect(bytes7.test(text(sevenValue))).toBe(true)
    }
  })

  it('finds what the bytes alone cannot show: escapes, short forms, non-ASCII secrets', () => {
    // A run of the secret, its first character escaped: only the text's escape-aware scan sees it.
    const escaped = `${filler(10)}\\u0073${secret.slice(1, 12)}${filler(10)}`
    expect(matcher.testBytes(encoder.encode(escaped))).toBeUndefined()
    expect(testBytes(matcher, encoder.encode(escaped))).toBe(true)
    expect(testBytes(matcher, encoder.encode(`${filler(10)}\\u0073k-${filler(10)}`))).toBe(false)
    expect(testBytes(compileMatcher(['abcde'], 4), encoder.encode('xx abcde xx'))).toBe(true)
    expect(compileMatcher(['abcde'], 4).test('xx abcde xx')).toBe(true)
    const wide = `é${randomSecret(20)}`
    expect(testBytes(compileMatcher([wide], 4), encoder.encode(`a ${wide} b`))).toBe(true)
    expect(compileMatcher([wide], 4).test(`a ${wide} b`)).toBe(true)
  })

  it('relays no secret the whole-body redaction would catch: non-ASCII ones too', () => {
    const relay = (secrets: string[], text: string): string => {
      const filter = createRedactor().withSecrets(secrets).bodyFilter()
      const out = [filter.push(encoder.encode(text)), filter.end()]
      return out.map((part) => (part ? decoder.decode(part) : '')).join('')
    }
    const other = `sk-tst-${randomSecret(30)}`
    for (const secret of [
      // 7 characters, one not ASCII: every form is long enough for the block map.
      `é${randomSecret(6)}`,
      // Lower-cased, the Kelvin sign is an ASCII k: the map holds k, the bytes hold its UTF-8.
      Array.from({ length: 3 }, () => `\u212A${randomSecret(7)}`).join(''),
      `${randomSecret(10)}中${randomSecret(10)}`,
    ]) {
      const text = `data: {"text":"hello ${secret} world"}\n\n`
      expect(createRedactor().withSecrets([secret, other]).redactBody(text)).not.toContain(secret)
      expect(relay([secret, other], text)).not.toContain(secret)
    }
  })
})

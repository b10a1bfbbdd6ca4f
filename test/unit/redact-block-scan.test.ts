import { describe, expect, it } from 'vitest'
import { compileMatcher } from '../../src/redact/matcher.ts'
import { secretForms } from '../../src/redact/secret-forms.ts'
import { randomSecret } from './redact-helpers.ts'

const encoder = new TextEncoder()
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
        expect(matcher.test(text, encoder.encode(text)), form).toBe(true)
        // At every offset in its memory too (a view of a larger buffer, as a network chunk is).
        const bytes = encoder.encode(text)
        for (let offset = 0; offset < 4; offset++) {
          const memory = new Uint8Array(bytes.length + 4)
          memory.set(bytes, offset)
          const view = memory.subarray(offset, offset + bytes.length)
          expect(matcher.testBytes(view), `${form} at ${offset}`).toBe(true)
        }
      }
    }
  })

  it('finds a run of the secret at every alignment, and nothing in text without one', () => {
    for (let pad = 0; pad < 8; pad++) {
      const text = `${'x'.repeat(pad)}${filler(50)}${secret.slice(12, 21).toUpperCase()}${filler(30)}`
      expect(matcher.testBytes(encoder.encode(text))).toBe(true)
      expect(matcher.test(text)).toBe(true)
    }
    for (let i = 0; i < 50; i++) {
      const text = filler(4000)
      expect(matcher.test(text)).toBe(false)
      expect(matcher.testBytes(encoder.encode(text))).toBe(false)
    }
  })

  it('leaves to the text what the bytes cannot decide: escapes, short forms, non-ASCII secrets', () => {
    const escaped = `${filler(10)}\\u0073k-tst`
    expect(matcher.testBytes(encoder.encode(escaped))).toBeUndefined()
    expect(compileMatcher(['abcde'], 4).testBytes(encoder.encode('xx abcde xx'))).toBeUndefined()
    expect(compileMatcher(['abcde'], 4).test('xx abcde xx')).toBe(true)
    const wide = `é${randomSecret(20)}`
    expect(compileMatcher([wide], 4).testBytes(encoder.encode(wide))).toBeUndefined()
    expect(compileMatcher([wide], 4).test(`a ${wide} b`)).toBe(true)
  })
})

import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { createRedactor } from '../../src/redact/redactor.ts'

const encoder = new TextEncoder()
const decoder = new TextDecoder()

/** Runs `chunks` through the redactor's body stream and returns the text that came out. */
const through = async (
  stream: TransformStream<Uint8Array, Uint8Array>,
  chunks: Uint8Array[]
): Promise<{ text: string; pieces: number }> => {
  const source = new ReadableStream<Uint8Array>({
    start(controller) {
      for (const chunk of chunks) controller.enqueue(chunk)
      controller.close()
    },
  })
  const reader = source.pipeThrough(stream).getReader()
  let text = ''
  let pieces = 0
  for (;;) {
    const { value, done } = await reader.read()
    if (done) return { text, pieces }
    pieces++
    text += decoder.decode(value, { stream: true })
  }
}

/** Splits `bytes` at the given fractions. */
const splitAt = (bytes: Uint8Array, cuts: number[]): Uint8Array[] => {
  const points = [...new Set(cuts.map((c) => Math.floor(c * bytes.length)))].sort((a, b) => a - b)
  const out: Uint8Array[] = []
  let from = 0
  for (const at of points) {
    out.push(bytes.slice(from, at))
    from = at
  }
  out.push(bytes.slice(from))
  return out
}

describe('Redactor.bodyStream', () => {
  it('redacts like redactBody on the whole text, wherever the chunks are cut', async () => {
    const secret = `sk-ant-api03-${crypto.randomUUID()}`
    const redactor = createRedactor().withSecrets([secret])
    const forms = [secret, encodeURIComponent(secret), btoa(secret), JSON.stringify(secret)]
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.oneof(fc.string(), fc.constantFrom(...forms), fc.constant('é✓ 𝄞')), {
          maxLength: 12,
        }),
        fc.array(fc.double({ min: 0, max: 1, noNaN: true }), { maxLength: 8 }),
        async (parts, cuts) => {
          const text = parts.join('')
          const { text: out } = await through(
            redactor.bodyStream(),
            splitAt(encoder.encode(text), cuts)
          )
          expect(out).toBe(redactor.redactBody(text))
          expect(out).not.toContain(secret)
        }
      ),
      { numRuns: 1000 }
    )
  })

  it('holds nothing back when no chunk ends like the start of a secret', async () => {
    const redactor = createRedactor().withSecrets([`sk-ant-${crypto.randomUUID()}`])
    const events = Array.from({ length: 5 }, (_, i) => encoder.encode(`data: {"i":${i}}\n\n`))
    const { text, pieces } = await through(redactor.bodyStream(), events)
    expect(pieces).toBe(5)
    expect(text).toBe(events.map((e) => decoder.decode(e)).join(''))
  })
})

describe('Redactor.redactBodyBytes', () => {
  it('gives the text redactBody gives, and the very bytes read when nothing in them is secret', () => {
    const secret = `sk-ant-api03-${crypto.randomUUID()}`
    const unicode = `clé-${crypto.randomUUID()}`
    const redactor = createRedactor().withSecrets([secret, unicode])
    const forms = [
      secret,
      encodeURIComponent(secret),
      btoa(secret),
      JSON.stringify(secret),
      // Written in JSON escapes: the bytes cannot decide, the text is read.
      `\\u${secret.charCodeAt(0).toString(16).padStart(4, '0')}${secret.slice(1)}`,
      unicode,
    ]
    fc.assert(
      fc.property(
        fc.array(fc.oneof(fc.string(), fc.constantFrom(...forms), fc.constant('é✓ 𝄞')), {
          maxLength: 12,
        }),
        (parts) => {
          const text = parts.join('')
          const bytes = encoder.encode(text)
          const out = redactor.redactBodyBytes(bytes, text)
          const expected = redactor.redactBody(text)
          if (expected === text) expect(out).toBe(bytes)
          else expect(out).toBe(expected)
        }
      ),
      { numRuns: 1000 }
    )
  })

  it('passes the bytes of a body with no secret untouched, even bytes that are not UTF-8', () => {
    const redactor = createRedactor().withSecrets([`sk-ant-${crypto.randomUUID()}`])
    const bytes = new Uint8Array([0x7b, 0x22, 0x61, 0x22, 0x3a, 0x22, 0xff, 0x22, 0x7d])
    expect(redactor.redactBodyBytes(bytes, decoder.decode(bytes))).toBe(bytes)
    expect(createRedactor().redactBodyBytes(bytes, decoder.decode(bytes))).toBe(bytes)
  })
})

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

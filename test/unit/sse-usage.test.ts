import { describe, expect, it } from 'vitest'
import { HELD_LINE_BYTES, SseUsageTracker } from '../../src/providers/anthropic/call.ts'
import { buildStreamEvents } from '../stubs/anthropic-wire.ts'

const sse = (text: string, inputTokens: number): Uint8Array =>
  new TextEncoder().encode(
    buildStreamEvents({ model: 'claude-sonnet-4-5', text, inputTokens })
      .map((e) => `event: ${e.event}\ndata: ${JSON.stringify(e.data)}\n\n`)
      .join('')
  )

const track = (chunks: Uint8Array[]) => {
  const tracker = new SseUsageTracker()
  for (const chunk of chunks) tracker.push(chunk)
  return tracker.result()
}

/** `bytes` cut at `cuts` (sorted offsets), each piece a view into a larger buffer. */
const cut = (bytes: Uint8Array, cuts: number[]): Uint8Array[] => {
  const pieces: Uint8Array[] = []
  let at = 0
  for (const to of [...cuts, bytes.length]) {
    const memory = new Uint8Array(to - at + 3)
    memory.set(bytes.subarray(at, to), 1)
    pieces.push(memory.subarray(1, 1 + to - at))
    at = to
  }
  return pieces
}

describe('SseUsageTracker: usage read from the bytes of a Messages stream', () => {
  const text = 'Grüße, 世界 — usage is a word here too: "usage" and usage. '.repeat(20)
  const bytes = sse(text, 7)
  const whole = track([bytes])

  it('reads input tokens from message_start and output tokens from message_delta', () => {
    expect(whole?.input).toBe(7)
    expect(whole?.output).toBeGreaterThan(1)
  })

  it('gives the same usage however the stream is cut, inside "usage" and inside characters too', () => {
    const usageAt = new TextDecoder().decode(bytes).indexOf('"usage"')
    for (let i = 0; i < 9; i++) expect(track(cut(bytes, [usageAt + i]))).toEqual(whole)
    for (let round = 0; round < 200; round++) {
      const cuts = Array.from({ length: 1 + (round % 40) }, () =>
        Math.floor(Math.random() * bytes.length)
      ).sort((a, b) => a - b)
      expect(track(cut(bytes, cuts))).toEqual(whole)
    }
    expect(track([...bytes].map((b) => new Uint8Array([b])))).toEqual(whole)
  })

  it('reads a line up to the longest it reads, and never a longer one, however it is cut', () => {
    const encoder = new TextEncoder()
    /** A `message_delta` line of exactly `length` bytes (its newline not counted). */
    const line = (length: number): Uint8Array => {
      const head = 'data: {"type":"message_delta","usage":{"output_tokens":7},"pad":"'
      return encoder.encode(`${head}${'x'.repeat(length - head.length - 2)}"}\n`)
    }
    for (const [length, expected] of [
      [HELD_LINE_BYTES, { input: 0, output: 7 }],
      [HELD_LINE_BYTES + 1, undefined],
    ] as const) {
      const bytes = line(length)
      expect(bytes.length).toBe(length + 1)
      for (const cuts of [[], [100], [length / 2], [length], [50, length - 50], [length - 1]]) {
        expect(track(cut(bytes, cuts)), `${length} cut at ${cuts}`).toEqual(expected)
        // Another line after it is read as its own.
        const after = track([...cut(bytes, cuts), sse('next', 3)])
        expect(after?.input, `${length} then a stream, cut at ${cuts}`).toBe(3)
      }
    }
  })

  it('says nothing for a stream without usage', () => {
    expect(track([new TextEncoder().encode('event: ping\ndata: {"type":"ping"}\n\n')])).toBe(
      undefined
    )
  })
})

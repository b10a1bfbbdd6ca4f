import { describe, expect, it } from 'vitest'
import { UpstreamError } from '../../src/upstream/fetch.ts'
import { guardStream, onStreamEnd, readBody } from '../../src/upstream/stream.ts'

const encoder = new TextEncoder()
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))

/** A response whose body sends `chunks`, waiting `gapMs` before each, then closes (or stalls). */
const dripping = (chunks: Uint8Array[], gapMs: number, stall = false): Response =>
  new Response(
    new ReadableStream<Uint8Array>({
      async start(controller) {
        for (const chunk of chunks) {
          await sleep(gapMs)
          controller.enqueue(chunk)
        }
        if (!stall) controller.close()
      },
    })
  )

describe('readBody', () => {
  it('reads a body whose chunks keep coming within the idle bound, however long it takes in all', async () => {
    const chunks = Array.from({ length: 6 }, (_, i) => encoder.encode(`part${i};`))
    // 6 gaps of 60 ms: 360 ms in all, each gap well within the 200 ms idle bound.
    const { text } = await readBody(dripping(chunks, 60), 200)
    expect(text).toBe('part0;part1;part2;part3;part4;part5;')
  })

  it('decodes characters cut between chunks', async () => {
    const bytes = encoder.encode('{"text":"€ and 😀"}')
    const cuts = [0, 10, 11, 12, 17, 19, bytes.length]
    const chunks = cuts.slice(1).map((end, i) => bytes.slice(cuts[i], end))
    const body = await readBody(dripping(chunks, 0), 1000)
    expect(body.text).toBe('{"text":"€ and 😀"}')
    expect(body.bytes).toEqual(bytes)
  })

  it('fails with a timeout once the upstream falls silent longer than the bound', async () => {
    const started = Date.now()
    const reading = readBody(dripping([encoder.encode('{"a":')], 20, true), 150)
    const error = await reading.catch((e: unknown) => e)
    expect(error).toBeInstanceOf(UpstreamError)
    expect((error as UpstreamError).kind).toBe('timeout')
    expect(Date.now() - started).toBeGreaterThanOrEqual(150)
  })

  it('fails with a network error when the body breaks', async () => {
    const broken = new Response(
      new ReadableStream({
        start(controller) {
          controller.enqueue(encoder.encode('{"a":'))
          controller.error(new Error('reset'))
        },
      })
    )
    const error = await readBody(broken, 1000).catch((e: unknown) => e)
    expect(error).toBeInstanceOf(UpstreamError)
    expect((error as UpstreamError).kind).toBe('network')
  })
})

describe('guardStream: one idle timer for the stream', () => {
  const drain = async (stream: ReadableStream<Uint8Array>, pauseMs: number) => {
    const reader = stream.getReader()
    let text = ''
    for (;;) {
      const { done, value } = await reader.read()
      if (done) return text
      text += new TextDecoder().decode(value)
      await sleep(pauseMs)
    }
  }

  it('does not count a client that reads slowly as the upstream’s silence', async () => {
    const chunks = Array.from({ length: 4 }, (_, i) => encoder.encode(`part${i};`))
    const ends: unknown[] = []
    // The upstream has every chunk ready; the client waits 3 idle bounds between reads.
    const body = dripping(chunks, 0).body as ReadableStream<Uint8Array>
    const guarded = guardStream(body, { idleTimeoutMs: 50, onEnd: (why) => ends.push(why) })
    expect(await drain(guarded, 150)).toBe('part0;part1;part2;part3;')
    expect(ends).toEqual([undefined])
  })

  it('still times out an upstream that falls silent while the client waits, and tells how it ended', async () => {
    const chunks = [encoder.encode('part0;')]
    const ends: unknown[] = []
    const told: unknown[] = []
    const body = dripping(chunks, 0, true).body as ReadableStream<Uint8Array>
    const guarded = guardStream(body, {
      idleTimeoutMs: 80,
      onEnd: (why) => ends.push(why),
      failureTail: () => encoder.encode('tail;'),
    })
    expect(onStreamEnd(guarded, (end) => told.push(end.how))).toBe(true)
    const started = Date.now()
    expect(await drain(guarded, 0)).toBe('part0;tail;')
    expect(Date.now() - started).toBeLessThan(2_000)
    expect(ends).toHaveLength(1)
    expect((ends[0] as UpstreamError).kind).toBe('timeout')
    expect(told).toEqual(['done'])
    expect(onStreamEnd(new ReadableStream(), () => {})).toBe(false)
  })

  it('tells a listener that comes after the stream ended how it ended', async () => {
    const guarded = guardStream(new ReadableStream({ start: (c) => c.close() }), {
      idleTimeoutMs: 1_000,
    })
    await new Response(guarded).text()
    const told: string[] = []
    expect(onStreamEnd(guarded, (end) => told.push(end.how))).toBe(true)
    expect(told).toEqual(['done'])
  })
})

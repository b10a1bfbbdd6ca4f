import { describe, expect, it } from 'vitest'
import { ReplayableBody } from '../../src/upstream/replayable-body.ts'

const bytes = (...values: number[]) => new Uint8Array(values)

/** A client body the test feeds chunk by chunk. */
const clientBody = () => {
  let controller!: ReadableStreamDefaultController<Uint8Array>
  const stream = new ReadableStream<Uint8Array>({
    start(c) {
      controller = c
    },
  })
  return {
    stream,
    send: (chunk: Uint8Array) => controller.enqueue(chunk),
    end: () => controller.close(),
  }
}

const readAll = async (stream: ReadableStream<Uint8Array> | undefined): Promise<number[]> => {
  if (!stream) throw new Error('no stream')
  const out: number[] = []
  const reader = stream.getReader()
  for (let read = await reader.read(); !read.done; read = await reader.read()) {
    out.push(...read.value)
  }
  return out
}

describe('ReplayableBody', () => {
  it('replays what an attempt sent, then reads on where it stopped', async () => {
    const client = clientBody()
    const body = new ReplayableBody(client.stream, 100)
    const first = body.stream()?.getReader()
    client.send(bytes(1, 2))
    expect((await first?.read())?.value).toEqual(bytes(1, 2))
    // The upstream answered (a 401) having read only the first chunk: a second attempt.
    expect(body.replayable).toBe(true)
    const second = body.stream()
    client.send(bytes(3))
    client.end()
    expect(await readAll(second)).toEqual([1, 2, 3])
    await expect(first?.read()).rejects.toThrow('a newer attempt')
  })

  it('a chunk an older attempt was still reading when a new one began reaches the new one', async () => {
    const client = clientBody()
    const body = new ReplayableBody(client.stream, 100)
    const first = body.stream()?.getReader()
    const pending = first?.read()
    const second = body.stream()
    client.send(bytes(7, 8))
    await expect(pending).rejects.toThrow('a newer attempt')
    client.end()
    expect(await readAll(second)).toEqual([7, 8])
  })

  it('aborts an attempt (never errors its body) that cannot send the whole body any more', async () => {
    const client = clientBody()
    const body = new ReplayableBody(client.stream, 4)
    const first = body.stream()?.getReader()
    client.send(bytes(1, 2))
    expect((await first?.read())?.value).toEqual(bytes(1, 2))
    const pending = first?.read()
    // The older attempt is reading the client's next chunk when the new one begins.
    await new Promise((resolve) => setTimeout(resolve, 0))
    let aborted = 0
    const second = body.stream(undefined, () => aborted++)?.getReader()
    expect((await second?.read())?.value).toEqual(bytes(1, 2))
    // The older attempt's read takes the next chunk, past the bound: it is no longer kept.
    client.send(bytes(3, 4, 5))
    await expect(pending).rejects.toThrow('a newer attempt')
    // The newer attempt, reading on, finds the chunk it has not sent gone.
    let settled = false
    void second?.read().then(
      () => (settled = true),
      () => (settled = true)
    )
    await new Promise((resolve) => setTimeout(resolve, 20))
    // The runtime is told to abort the call; the body it sends never ends, nor errors.
    expect(aborted).toBeGreaterThan(0)
    expect(settled).toBe(false)
    expect(body.failure).toBeUndefined()
  })

  it('is sent once only past its bound', async () => {
    const client = clientBody()
    const body = new ReplayableBody(client.stream, 4)
    const first = body.stream()
    client.send(bytes(1, 2, 3))
    client.send(bytes(4, 5))
    client.end()
    expect(await readAll(first)).toEqual([1, 2, 3, 4, 5])
    expect(body.replayable).toBe(false)
    expect(body.stream()).toBeUndefined()
  })
})

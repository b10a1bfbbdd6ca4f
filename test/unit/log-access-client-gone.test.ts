import { Hono } from 'hono'
import { requestId } from 'hono/request-id'
import { describe, expect, it } from 'vitest'
import { accessLog, createLogger, type LogRecord } from '../../src/log/index.ts'
import { onError } from '../../src/middleware/on-error.ts'

const setup = () => {
  const lines: LogRecord[] = []
  const app = new Hono()
  app.use(requestId())
  app.use(accessLog({ logger: createLogger({ sink: (r) => lines.push(r) }) }))
  let releaseStream: (() => void) | undefined
  app.get('/stream', (c) => {
    const encoder = new TextEncoder()
    let sent = 0
    const body = new ReadableStream<Uint8Array>({
      async pull(controller) {
        if (sent === 2) await new Promise<void>((resolve) => (releaseStream = resolve))
        if (sent === 3) return controller.close()
        sent += 1
        controller.enqueue(encoder.encode(`event: n\ndata: ${sent}\n\n`))
      },
    })
    return c.body(body, 200, { 'content-type': 'text/event-stream' })
  })
  // What a fetch with an aborted signal rejects with on Node: the abort reason, a string.
  app.get(
    '/upstream',
    (c) =>
      new Promise<Response>((_resolve, reject) => {
        c.req.raw.signal.addEventListener('abort', () =>
          reject('Client connection prematurely closed.')
        )
      })
  )
  app.get('/slow', async (c) => {
    await new Promise<void>((resolve, reject) => {
      c.req.raw.signal.addEventListener('abort', () =>
        reject(new DOMException('gone', 'AbortError'))
      )
      setTimeout(resolve, 5_000)
    })
    return c.text('late')
  })
  app.onError(onError)
  return { app, lines, release: () => releaseStream?.() }
}

const requestLines = (lines: LogRecord[]) => lines.filter((l) => l.msg === 'request')

describe('accessLog: a client that goes away is one quiet 499 line', () => {
  it('when it leaves before the response, whatever was thrown (an Error or a string)', async () => {
    for (const path of ['/slow', '/upstream']) {
      const { app, lines } = setup()
      const client = new AbortController()
      const pending = Promise.resolve(app.request(path, { signal: client.signal })).catch(
        (error: unknown) => error
      )
      setTimeout(() => client.abort(), 20)
      await pending
      expect(requestLines(lines), path).toEqual([
        expect.objectContaining({ level: 'info', status: 499, route: path }),
      ])
      expect(requestLines(lines)[0]).not.toHaveProperty('error')
    }
  })

  it('when it leaves in the middle of a stream: the line waits for the end of the stream', async () => {
    const { app, lines } = setup()
    const res = await app.request('/stream')
    expect(res.status).toBe(200)
    const reader = (res.body as ReadableStream<Uint8Array>).getReader()
    await reader.read()
    expect(requestLines(lines)).toEqual([])
    await reader.cancel()
    expect(requestLines(lines)).toEqual([
      expect.objectContaining({ level: 'info', status: 499, route: '/stream' }),
    ])
  })

  it('a stream read to its end is one line with its status, written at the end', async () => {
    const { app, lines, release } = setup()
    const res = await app.request('/stream')
    const text = res.text()
    await new Promise((resolve) => setTimeout(resolve, 20))
    expect(requestLines(lines)).toEqual([])
    release()
    expect(await text).toContain('data: 3')
    expect(requestLines(lines)).toEqual([
      expect.objectContaining({ level: 'info', status: 200, route: '/stream' }),
    ])
    expect(requestLines(lines)[0]).not.toHaveProperty('error')
  })
})

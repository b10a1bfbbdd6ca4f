import type { Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { connect, type Socket } from 'node:net'
import { Hono } from 'hono'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { listenOptions } from '../../src/entries/listen-options.ts'
import { createNodeServer } from '../../src/entries/node-http.ts'

/**
 * keyline's Node server bounds the silence inside a request body, not the time the whole
 * request takes: Node's own `requestTimeout` (five minutes for the whole request) would cut a
 * large upload on a slow link. Here the bound is 800 ms, and the pauses of a slow upload are
 * 150 ms.
 */
const IDLE_MS = 800
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))

let server: Server
let port: number
const seen: string[] = []

beforeAll(async () => {
  const app = new Hono()
  app.post('/upload', async (c) => {
    try {
      const body = await c.req.text()
      seen.push(`read ${body.length}`)
      return c.json({ bytes: body.length })
    } catch {
      seen.push('broke off')
      return c.json({ error: 'broke off' }, 400)
    }
  })
  // Takes its time before it reads the body, which arrived whole at once.
  app.post('/slow', async (c) => {
    await sleep(IDLE_MS * 2)
    return c.json({ bytes: (await c.req.text()).length })
  })
  app.get('/slow', async (c) => {
    await sleep(IDLE_MS * 2)
    return c.json({ ok: true })
  })
  server = createNodeServer(app.fetch, { uploadIdleTimeoutMs: IDLE_MS })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  port = (server.address() as AddressInfo).port
})

afterAll(async () => {
  server.closeAllConnections()
  await new Promise((resolve) => server.close(resolve))
})

/** The raw answer on `socket` once it is complete (by content-length) or the socket closed. */
const answerOn = (socket: Socket): Promise<{ head: string; body: string; closed: boolean }> =>
  new Promise((resolve) => {
    let data = ''
    const done = (closed: boolean) => {
      const end = data.indexOf('\r\n\r\n')
      resolve({ head: data.slice(0, end), body: data.slice(end + 4), closed })
    }
    const complete = () => {
      const end = data.indexOf('\r\n\r\n')
      const length = /content-length: (\d+)/i.exec(data.slice(0, end))?.[1]
      return end !== -1 && length !== undefined && data.length - end - 4 >= Number(length)
    }
    socket.on('data', (chunk) => {
      data += chunk.toString('utf8')
      if (complete()) {
        socket.removeAllListeners('close')
        done(false)
      }
    })
    socket.on('close', () => done(true))
    socket.on('error', () => undefined)
  })

const open = (): Promise<Socket> =>
  new Promise((resolve) => {
    const socket = connect(port, '127.0.0.1', () => resolve(socket))
  })

const head = (path: string, length: number) =>
  `POST ${path} HTTP/1.1\r\nHost: localhost\r\nContent-Type: text/plain\r\nContent-Length: ${length}\r\n\r\n`

describe('the Node server and a request body', () => {
  it('has no bound on the whole request, and keeps the bound on its headers', () => {
    expect(server.requestTimeout).toBe(0)
    expect(server.headersTimeout).toBe(60_000)
  })

  it('takes an upload that keeps sending, however long it takes in all', async () => {
    const socket = await open()
    const answer = answerOn(socket)
    const pieces = 12
    socket.write(head('/upload', pieces * 1000))
    for (let i = 0; i < pieces; i++) {
      await sleep(150)
      socket.write('x'.repeat(1000))
    }
    const { head: status, body } = await answer
    socket.destroy()
    // 12 × 150 ms: more than twice the bound on silence.
    expect(status).toMatch(/^HTTP\/1\.1 200/)
    expect(JSON.parse(body)).toEqual({ bytes: 12_000 })
  })

  it('answers a body silent for longer than the bound with a JSON 408 and closes the connection', async () => {
    const before = seen.length
    const socket = await open()
    const answer = answerOn(socket)
    socket.write(`${head('/upload', 5000)}${'x'.repeat(100)}`)
    const { head: status, body, closed } = await answer
    socket.destroy()
    expect(status).toMatch(/^HTTP\/1\.1 408/)
    expect(status).toMatch(/connection: close/i)
    expect(JSON.parse(body)).toMatchObject({
      error: { type: 'invalid_request_error', message: 'The request was not received in time' },
      request_id: expect.any(String),
    })
    expect(closed).toBe(false)
    // The app saw the body break off: nothing half-read went on as if whole.
    await expect.poll(() => seen.slice(before)).toEqual(['broke off'])
  })

  it('does not cut a request whose body arrived whole while the app takes its time', async () => {
    const socket = await open()
    const answer = answerOn(socket)
    socket.write(`${head('/slow', 10)}0123456789`)
    const { head: status, body } = await answer
    expect(status).toMatch(/^HTTP\/1\.1 200/)
    expect(JSON.parse(body)).toEqual({ bytes: 10 })
    // The connection stays usable for the next request.
    const next = answerOn(socket)
    socket.write('GET /slow HTTP/1.1\r\nHost: localhost\r\n\r\n')
    expect((await next).head).toMatch(/^HTTP\/1\.1 200/)
    socket.destroy()
  })

  it('rejects a bound that is not a whole number of ms', () => {
    expect(() => createNodeServer(() => new Response(), { uploadIdleTimeoutMs: -1 })).toThrow(
      RangeError
    )
    expect(() => createNodeServer(() => new Response(), { uploadIdleTimeoutMs: 1.5 })).toThrow(
      /uploadIdleTimeoutMs/
    )
  })
})

describe('KEYLINE_UPLOAD_IDLE_TIMEOUT_MS', () => {
  it('is 60 s unless set; 0 turns the bound off; anything else but a whole number of ms is refused', () => {
    expect(listenOptions({}).uploadIdleTimeoutMs).toBe(60_000)
    expect(listenOptions({ KEYLINE_UPLOAD_IDLE_TIMEOUT_MS: '0' }).uploadIdleTimeoutMs).toBe(0)
    expect(listenOptions({ KEYLINE_UPLOAD_IDLE_TIMEOUT_MS: '120000' }).uploadIdleTimeoutMs).toBe(
      120_000
    )
    for (const bad of ['soon', '-1', '1.5', '3600001']) {
      expect(() => listenOptions({ KEYLINE_UPLOAD_IDLE_TIMEOUT_MS: bad })).toThrow(
        /KEYLINE_UPLOAD_IDLE_TIMEOUT_MS must be an integer/
      )
    }
  })
})

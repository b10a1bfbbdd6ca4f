import { connect } from 'node:net'
import { describe, expect, it } from 'vitest'
import { describeRuntimes, type RuntimeContext } from './harness/describe-runtimes.ts'

interface RawAnswer {
  status: number
  headers: Record<string, string>
  body: string
}

/** The body of a chunked message, or `undefined` while its last chunk has not arrived. */
const dechunk = (data: Buffer): Buffer | undefined => {
  const parts: Buffer[] = []
  let offset = 0
  for (;;) {
    const lineEnd = data.indexOf('\r\n', offset)
    if (lineEnd === -1) return undefined
    const size = Number.parseInt(data.subarray(offset, lineEnd).toString('latin1'), 16)
    if (!Number.isFinite(size)) return undefined
    if (size === 0) return Buffer.concat(parts)
    if (data.length < lineEnd + 2 + size + 2) return undefined
    parts.push(data.subarray(lineEnd + 2, lineEnd + 2 + size))
    offset = lineEnd + 2 + size + 2
  }
}

/**
 * Sends `request` as raw bytes (what `fetch` refuses to send) and reads one HTTP/1.1 answer:
 * up to its content-length or last chunk, or until the server closes the connection.
 */
const raw = (ctx: RuntimeContext, request: string): Promise<RawAnswer> =>
  new Promise((resolve, reject) => {
    const { hostname, port } = new URL(ctx.url)
    const socket = connect(Number(port), hostname)
    let data = Buffer.alloc(0)
    let closed = false
    const timer = setTimeout(() => finish(new Error('no complete answer in 5 s')), 5_000)
    const parse = (): RawAnswer | undefined => {
      const end = data.indexOf('\r\n\r\n')
      if (end === -1) return undefined
      const [statusLine = '', ...lines] = data.subarray(0, end).toString('latin1').split('\r\n')
      const headers: Record<string, string> = {}
      for (const line of lines) {
        const colon = line.indexOf(':')
        headers[line.slice(0, colon).trim().toLowerCase()] = line.slice(colon + 1).trim()
      }
      const status = Number(statusLine.split(' ')[1])
      let body: Buffer | undefined = data.subarray(end + 4)
      if (headers['transfer-encoding'] === 'chunked') body = dechunk(body)
      else if (headers['content-length'] !== undefined) {
        if (body.length < Number(headers['content-length'])) body = undefined
      } else if (!closed) body = undefined
      return body && { status, headers, body: body.toString('utf8') }
    }
    const finish = (error?: Error): void => {
      clearTimeout(timer)
      socket.destroy()
      const answer = parse()
      if (answer) resolve(answer)
      else reject(error ?? new Error(`incomplete answer: ${JSON.stringify(data.toString())}`))
    }
    socket.on('data', (chunk) => {
      data = Buffer.concat([data, chunk])
      if (parse()) finish()
    })
    socket.on('error', (error) => finish(error))
    socket.on('close', () => {
      closed = true
      finish()
    })
    socket.write(request)
  })

/** Checks keyline's JSON error shape and returns its `error.type`. */
const jsonError = (answer: RawAnswer): string => {
  expect(answer.headers['content-type']).toMatch(/^application\/json/)
  const body = JSON.parse(answer.body) as {
    error: { type: string; message: string }
    request_id: string
  }
  expect(body.error.message).toEqual(expect.any(String))
  expect(body.request_id).toBeTruthy()
  expect(answer.headers['x-request-id']).toBe(body.request_id)
  return body.error.type
}

const get = (target: string, headers: string): string => `GET ${target} HTTP/1.1\r\n${headers}\r\n`

/**
 * HTTP-layer rejections answer keyline's JSON error shape where the runtime lets keyline
 * answer them: on Node all of them (the `clientError` event, `@hono/node-server`'s request
 * errors); on Deno what reaches the handler (a bad `Host`, a header block between 16 and
 * 64 KiB), while the rest is answered by Deno's own HTTP server with an empty 400 (the README
 * lists them; the tests below pin what Deno does, so a change shows up here).
 */
describeRuntimes(
  'HTTP-layer rejections',
  (ctx) => {
    describe('answered with keyline JSON on Node and Deno', () => {
      for (const host of ['a/b', 'exa mple', 'a@b', 'a?b']) {
        it(`a bad Host (${host}): 400 invalid_request_error`, async () => {
          const answer = await raw(ctx, get('/healthz', `Host: ${host}\r\n`))
          expect(answer.status).toBe(400)
          expect(jsonError(answer)).toBe('invalid_request_error')
        })
      }

      it('a header block over 16 KiB: 431', async () => {
        const big = `Host: localhost\r\nX-Big: ${'a'.repeat(17 * 1024)}\r\n`
        const answer = await raw(ctx, get('/healthz', big))
        expect(answer.status).toBe(431)
        expect(jsonError(answer)).toBe('invalid_request_error')
      })

      it('a good request on the same server still passes, with a content-length', async () => {
        const answer = await raw(ctx, get('/healthz', 'Host: localhost:8787\r\n'))
        expect(answer.status).toBe(200)
        expect(JSON.parse(answer.body)).toEqual({ status: 'ok', runtime: ctx.runtime })
        // a whole body is sent whole, with its length (the access log must not turn it into a stream)
        expect(answer.headers['content-length']).toBe(String(answer.body.length))
      })

      it('a * target: a JSON error (Deno sees it as the path /*, a 404)', async () => {
        const answer = await raw(ctx, 'OPTIONS * HTTP/1.1\r\nHost: localhost\r\n\r\n')
        if (ctx.runtime === 'deno') {
          expect(answer.status).toBe(404)
          expect(jsonError(answer)).toBe('not_found')
        } else {
          expect(answer.status).toBe(400)
          expect(jsonError(answer)).toBe('invalid_request_error')
        }
      })
    })

    const parserErrors: [string, string][] = [
      ['an obs-folded header', get('/healthz', 'Host: localhost\r\nX-A: a\r\n folded\r\n')],
      ['a malformed request line', 'HELLO\r\n\r\n'],
      ['a header name with a space', get('/healthz', 'Host: localhost\r\nX A: b\r\n')],
      [
        'a non-numeric content-length',
        'POST /v1/messages HTTP/1.1\r\nHost: localhost\r\nContent-Length: abc\r\n\r\n',
      ],
    ]
    for (const [what, request] of parserErrors) {
      if (ctx.runtime === 'node') {
        it(`${what}: 400 invalid_request_error, connection closed`, async () => {
          const answer = await raw(ctx, request)
          expect(answer.status).toBe(400)
          expect(answer.headers.connection).toBe('close')
          expect(jsonError(answer)).toBe('invalid_request_error')
        })
      } else {
        it(`${what}: Deno's own empty 400 (keyline never sees it)`, async () => {
          const answer = await raw(ctx, request)
          expect(answer.status).toBe(400)
          expect(answer.body).toBe('')
        })
      }
    }

    if (ctx.runtime === 'node') {
      it('an HTTP/1.1 request without Host: 400', async () => {
        const answer = await raw(ctx, 'GET /healthz HTTP/1.1\r\n\r\n')
        expect(answer.status).toBe(400)
        expect(jsonError(answer)).toBe('invalid_request_error')
      })

      it('an HTTP/1.0 request without Host is still answered', async () => {
        const answer = await raw(ctx, 'GET /healthz HTTP/1.0\r\n\r\n')
        expect(answer.status).toBe(200)
      })

      it('a header block far over the limit (100 KiB): 431', async () => {
        const big = `Host: localhost\r\nX-Big: ${'a'.repeat(100 * 1024)}\r\n`
        const answer = await raw(ctx, get('/healthz', big))
        expect(answer.status).toBe(431)
        expect(jsonError(answer)).toBe('invalid_request_error')
      })

      it('an Expect other than 100-continue: 417', async () => {
        const answer = await raw(
          ctx,
          'POST /v1/messages HTTP/1.1\r\nHost: localhost\r\nExpect: foo\r\nContent-Length: 2\r\n\r\n{}'
        )
        expect(answer.status).toBe(417)
        expect(jsonError(answer)).toBe('invalid_request_error')
      })

      it('CONNECT: 405 method_not_allowed', async () => {
        const answer = await raw(ctx, 'CONNECT localhost:80 HTTP/1.1\r\nHost: localhost:80\r\n\r\n')
        expect(answer.status).toBe(405)
        expect(jsonError(answer)).toBe('method_not_allowed')
      })
    } else {
      it("a header block over Deno's 64 KiB: Deno's own empty 400", async () => {
        const big = `Host: localhost\r\nX-Big: ${'a'.repeat(64 * 1024)}\r\n`
        const answer = await raw(ctx, get('/healthz', big))
        expect(answer.status).toBe(400)
        expect(answer.body).toBe('')
      })
    }
  },
  { runtimes: ['node', 'deno'] }
)

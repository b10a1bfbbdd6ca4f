import { readFileSync } from 'node:fs'
import { createServer, type IncomingMessage, request, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { afterAll, expect, it } from 'vitest'
import { describeRuntimes, type RuntimeContext } from './harness/describe-runtimes.ts'

const CLIENT_TOKEN = `kl-test-${crypto.randomUUID()}`
const API_KEY = `sk-ant-test-${crypto.randomUUID()}`
/**
 * The upload, generated as it is sent (never on disk, never whole in memory): 2 GiB through
 * Node; 256 MiB through Deno, whose streaming of a request body upstream runs at a few tens of
 * MB/s here (as before keyline's changes), so 2 GiB would take minutes.
 */
const UPLOAD_BYTES = { node: 2 * 1024 ** 3, deno: 256 * 1024 ** 2, workerd: 0 }
const CHUNK = new Uint8Array(256 * 1024).fill(0x61)
/**
 * How much the server's resident memory may grow while it passes the upload on: 160 MiB, well
 * under either upload (a body held whole grows it by at least its size). Measured as growth: the
 * server's resident memory before the upload moves between runs (118–122 MiB on Node), and an
 * absolute limit of 200 MB failed a run whose growth was 75 MiB.
 */
const RSS_GROWTH_LIMIT_BYTES = 160 * 1024 ** 2

/**
 * A stub upstream that drains every request body, counting its bytes, and answers as the Files
 * API does (`size_bytes`: what it received).
 */
let drain: Server | undefined
const drainUrl = async (): Promise<string> => {
  drain ??= createServer((incoming, outgoing) => {
    let size = 0
    incoming.on('data', (chunk: Buffer) => {
      size += chunk.byteLength
    })
    incoming.on('end', () => {
      outgoing
        .writeHead(200, { 'content-type': 'application/json' })
        .end(JSON.stringify({ type: 'file', id: 'file_drained', size_bytes: size }))
    })
  }).listen(0, '127.0.0.1')
  if (!drain.listening) await new Promise((resolve) => drain?.once('listening', resolve))
  return `http://127.0.0.1:${(drain.address() as AddressInfo).port}`
}
afterAll(() => new Promise<void>((resolve) => (drain ? drain.close(() => resolve()) : resolve())))

/** The resident memory of a process, from `/proc/<pid>/status`. */
const rssOf = (pid: number): number => {
  const line = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))
  return Number(line?.[1] ?? 0) * 1024
}

/** An upload through `node:http`: `size` bytes written as the socket takes them. */
const upload = (
  ctx: RuntimeContext,
  size: number,
  headers: Record<string, string> = {}
): Promise<{ status: number; body: string }> =>
  new Promise((resolve, reject) => {
    const req = request(`${ctx.url}/v1/files`, {
      method: 'POST',
      headers: {
        authorization: `Bearer ${CLIENT_TOKEN}`,
        'content-type': 'application/octet-stream',
        'anthropic-beta': 'files-api-2025-04-14',
        ...headers,
      },
    })
    req.once('error', reject)
    req.once('response', (res: IncomingMessage) => {
      let body = ''
      res.setEncoding('utf8')
      res.on('data', (text: string) => {
        body += text
      })
      res.on('end', () => {
        // The connection goes with the answer (a refused upload's body is never sent).
        req.destroy()
        resolve({ status: res.statusCode ?? 0, body })
      })
    })
    if (size === 0) {
      req.flushHeaders()
      return
    }
    let sent = 0
    const write = (): void => {
      while (sent < size) {
        const piece = size - sent >= CHUNK.byteLength ? CHUNK : CHUNK.subarray(0, size - sent)
        sent += piece.byteLength
        if (!req.write(piece)) {
          req.once('drain', write)
          return
        }
      }
      req.end()
    }
    write()
  })

/**
 * Uploads are passed on as they come, never held: a 2 GiB upload through the Node server grows
 * its resident memory by less than 160 MiB (Node's own fetch held a copy of the whole body:
 * nodejs/undici#4058), and `KEYLINE_MAX_UPLOAD_BYTES` refuses a larger `content-length` before a
 * byte of it is read.
 */
describeRuntimes(
  'uploads are streamed, not held in memory',
  (ctx) => {
    const size = UPLOAD_BYTES[ctx.runtime]
    it(`a ${size / 1024 ** 2} MiB upload passes whole while the server grows by less than 160 MiB`, async () => {
      const pid = ctx.server.pid
      const before = rssOf(pid)
      let peak = before
      const sampler = setInterval(() => {
        peak = Math.max(peak, rssOf(pid))
      }, 50)
      try {
        const res = await upload(ctx, size)
        expect(res.status).toBe(200)
        expect(JSON.parse(res.body)).toMatchObject({ size_bytes: size })
      } finally {
        clearInterval(sampler)
      }
      peak = Math.max(peak, rssOf(pid))
      console.info(
        `[upload-memory] ${ctx.runtime}: peak RSS ${(peak / 1024 ** 2).toFixed(0)} MiB (${(before / 1024 ** 2).toFixed(0)} MiB before)`
      )
      expect(peak - before).toBeLessThan(RSS_GROWTH_LIMIT_BYTES)
    }, 180_000)

    it('a content-length past KEYLINE_MAX_UPLOAD_BYTES gets 413 before the body is sent', async () => {
      // Only the headers go out: keyline answers without waiting for 4 GiB.
      const res = await upload(ctx, 0, { 'content-length': String(4 * 1024 ** 3) })
      expect(res.status).toBe(413)
      expect(JSON.parse(res.body)).toMatchObject({
        type: 'error',
        error: { type: 'request_too_large' },
      })
    })
  },
  {
    runtimes: ['node', 'deno'],
    bindings: async () => ({
      KEYLINE_CLIENT_TOKENS: CLIENT_TOKEN,
      ANTHROPIC_API_KEY: API_KEY,
      ANTHROPIC_BASE_URL: await drainUrl(),
      KEYLINE_MAX_UPLOAD_BYTES: String(3 * 1024 ** 3),
    }),
  }
)

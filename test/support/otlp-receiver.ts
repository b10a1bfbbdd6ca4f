import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'
import { decodeExportRequest, type ReceivedExport } from './otlp-decode.ts'

export * from './otlp-decode.ts'

/** A running receiver. */
export interface OtlpReceiver {
  /** Base URL, e.g. `http://127.0.0.1:41234`: use it as `OTEL_EXPORTER_OTLP_ENDPOINT`. */
  readonly url: string
  /** Every export received so far, oldest first (optionally only one `service.name`'s). */
  received(service?: string): ReceivedExport[]
  clear(): void
  close(): Promise<void>
}

const readBody = async (req: IncomingMessage): Promise<Buffer> => {
  const chunks: Buffer[] = []
  for await (const chunk of req) chunks.push(chunk as Buffer)
  return Buffer.concat(chunks)
}

const send = (res: ServerResponse, status: number, body: unknown): void => {
  res.writeHead(status, { 'content-type': 'application/json' })
  res.end(JSON.stringify(body))
}

/**
 * Starts an OTLP/HTTP metrics receiver on 127.0.0.1 (port 0 unless given). Routes:
 *
 * - `POST /v1/metrics` (also under any prefix, e.g. `/tenant-a/v1/metrics`): JSON
 *   (`application/json`) only; protobuf is answered 415. Answers `{}` (full success).
 * - `POST /hang/v1/metrics`: reads the body and never answers (until `close()`), to test
 *   export timeouts.
 * - `GET /__received[?service=NAME]`: the decoded {@link ReceivedExport}s, for tests that run
 *   where they cannot call {@link OtlpReceiver.received} (inside workerd).
 * - `DELETE /__received`: clears them.
 */
export const startOtlpReceiver = async (port = 0): Promise<OtlpReceiver> => {
  const exports: ReceivedExport[] = []
  const hanging = new Set<ServerResponse>()
  const received = (service?: string): ReceivedExport[] =>
    service === undefined
      ? [...exports]
      : exports.filter((e) => e.resource['service.name'] === service)

  const server: Server = createServer(async (req, res) => {
    const url = new URL(req.url ?? '/', 'http://receiver')
    try {
      if (url.pathname === '/__received') {
        if (req.method === 'DELETE') {
          exports.length = 0
          return send(res, 204, null)
        }
        return send(res, 200, received(url.searchParams.get('service') ?? undefined))
      }
      if (req.method === 'POST' && url.pathname.endsWith('/v1/metrics')) {
        const body = await readBody(req)
        if (url.pathname === '/hang/v1/metrics') {
          hanging.add(res)
          return
        }
        const type = req.headers['content-type'] ?? ''
        if (!type.startsWith('application/json')) {
          return send(res, 415, { message: `unsupported content-type ${type}` })
        }
        const headers = Object.fromEntries(
          Object.entries(req.headers).map(([k, v]) => [
            k,
            Array.isArray(v) ? v.join(', ') : (v ?? ''),
          ])
        )
        exports.push(...decodeExportRequest(JSON.parse(body.toString('utf8')), headers))
        return send(res, 200, {})
      }
      send(res, 404, { message: 'not found' })
    } catch (error) {
      send(res, 400, { message: error instanceof Error ? error.message : String(error) })
    }
  })
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject)
    server.listen(port, '127.0.0.1', () => resolve())
  })
  const address = server.address() as AddressInfo
  return {
    url: `http://127.0.0.1:${address.port}`,
    received,
    clear: () => {
      exports.length = 0
    },
    close: () =>
      new Promise<void>((resolve) => {
        for (const res of hanging) res.destroy()
        server.close(() => resolve())
        server.closeAllConnections()
      }),
  }
}

/** A loopback URL nothing listens on (bound, then released), for "collector down" tests. */
export const closedPortUrl = async (): Promise<string> => {
  const server = createServer()
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()))
  const { port } = server.address() as AddressInfo
  await new Promise<void>((resolve) => server.close(() => resolve()))
  return `http://127.0.0.1:${port}`
}

declare module 'vitest' {
  export interface ProvidedContext {
    /** The OTLP receiver's base URL (see `test/support/otlp-receiver.ts`). */
    otlpReceiver: string
    /** A loopback base URL nothing listens on. */
    otlpClosed: string
  }
}

import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import type { PrometheusExporter } from '@opentelemetry/exporter-prometheus'

/** A running scrape endpoint. */
export interface PrometheusServer {
  /** The scrape URL, e.g. `http://127.0.0.1:9464/metrics`. */
  readonly url: string
  close(): Promise<void>
}

/**
 * Serves `exporter` (created with `preventServerStart: true`) at `GET /metrics` on
 * `host:port`. Our own server rather than the exporter's so that the bound address is known
 * (port `0` works, the returned URL is exact) and a bind failure rejects instead of only being
 * logged.
 */
export const startPrometheusServer = async (
  exporter: PrometheusExporter,
  host: string,
  port: number
): Promise<PrometheusServer> => {
  const server: Server = createServer((req, res) => {
    const path = new URL(req.url ?? '/', 'http://scrape').pathname
    if ((req.method === 'GET' || req.method === 'HEAD') && path === '/metrics') {
      exporter.getMetricsRequestHandler(req, res)
      return
    }
    res.writeHead(404, { 'content-type': 'text/plain' }).end('not found\n')
  })
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject)
    server.listen(port, host, () => {
      server.off('error', reject)
      resolve()
    })
  })
  const address = server.address() as AddressInfo
  const shown = address.family === 'IPv6' ? `[${address.address}]` : address.address
  return {
    url: `http://${shown}:${address.port}/metrics`,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve())
        server.closeAllConnections()
      }),
  }
}

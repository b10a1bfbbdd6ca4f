/**
 * The bare Hono proxy as a Node server (`@hono/node-server`), the comparator of keyline's Node
 * entry: `BENCH_PORT`, `BENCH_UPSTREAM` and `BENCH_API_KEY` from the environment, 127.0.0.1.
 */
import { serve } from '@hono/node-server'
import { bareProxyApp } from '../support/bare-proxy-app.ts'

const app = bareProxyApp({
  upstream: process.env.BENCH_UPSTREAM ?? '',
  apiKey: process.env.BENCH_API_KEY ?? '',
})
const server = serve({
  fetch: app.fetch,
  hostname: '127.0.0.1',
  port: Number(process.env.BENCH_PORT),
})
for (const signal of ['SIGTERM', 'SIGINT'] as const) {
  process.once(signal, () => server.close(() => process.exit(0)))
}

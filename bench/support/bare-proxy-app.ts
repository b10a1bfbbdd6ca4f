/**
 * The comparator of the proxy benchmarks: the least a Hono app can do to forward
 * `POST /v1/messages` to Anthropic with a fixed key — no client auth, validation, retries,
 * logging or metrics — relaying the response (SSE included) as a stream.
 */
import { Hono } from 'hono'

/** Options of {@link bareProxyApp}. */
export interface BareProxyOptions {
  /** Upstream base URL. @default the `ANTHROPIC_BASE_URL` binding of the request */
  upstream?: string
  /** The key sent as `x-api-key`. @default the `ANTHROPIC_API_KEY` binding of the request */
  apiKey?: string
  /** @default globalThis.fetch */
  fetch?: typeof fetch
}

const HOP_BY_HOP = ['connection', 'keep-alive', 'transfer-encoding']

/** A bare pass-through proxy: `POST /v1/messages` forwarded, `GET /healthz` answered. */
export const bareProxyApp = (options: BareProxyOptions = {}): Hono => {
  const send = options.fetch ?? ((input, init) => fetch(input, init))
  const app = new Hono<{ Bindings: Record<string, string | undefined> }>()
  app.get('/healthz', (c) => c.json({ status: 'ok' }))
  app.post('/v1/messages', async (c) => {
    const upstream = options.upstream ?? c.env?.ANTHROPIC_BASE_URL ?? ''
    const res = await send(`${upstream}/v1/messages`, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        'x-api-key': options.apiKey ?? c.env?.ANTHROPIC_API_KEY ?? '',
        'anthropic-version': c.req.header('anthropic-version') ?? '2023-06-01',
      },
      body: await c.req.arrayBuffer(),
    })
    const headers = new Headers(res.headers)
    for (const name of HOP_BY_HOP) headers.delete(name)
    return new Response(res.body, { status: res.status, headers })
  })
  return app as unknown as Hono
}

import { Hono } from 'hono'
import { getRuntimeKey } from 'hono/adapter'

/** `GET /healthz`: 200 with the runtime's name; reads no secret and calls no upstream. */
export const healthRoutes = (runtime: string = getRuntimeKey()): Hono => {
  const app = new Hono()
  app.get('/healthz', (c) => c.json({ status: 'ok', runtime }))
  return app
}

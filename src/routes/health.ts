import { Hono } from 'hono'
import { runtimeName } from '../runtime.ts'

/** `GET /healthz`: 200 with the runtime's name; reads no secret and calls no upstream. */
export const healthRoutes = (runtime: string = runtimeName()): Hono => {
  const app = new Hono()
  app.get('/healthz', (c) => c.json({ status: 'ok', runtime }))
  return app
}

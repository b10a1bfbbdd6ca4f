import type { Context, MiddlewareHandler, Next } from 'hono'

/**
 * Runs `handlers` one inside the other as one middleware: what `app.use(a); app.use(b)` does,
 * with one layer of Hono's dispatch (an async frame, a promise and an error catch per request)
 * instead of one per handler. For the request path only, where those layers add up.
 *
 * Hono turns what a middleware throws into the error response at that middleware's own layer,
 * so the ones around it see a response, not a throw; here the ones around it see the throw. So
 * every handler but the last must do nothing after its `next()` that a throw would skip or
 * change (setting variables and headers before it is fine), and none may call `next()` twice.
 */
export const inSequence = (...handlers: readonly MiddlewareHandler[]): MiddlewareHandler => {
  if (handlers.length === 0) throw new TypeError('inSequence(): no handlers')
  const last = handlers.length - 1
  const run = (c: Context, i: number, next: Next): ReturnType<MiddlewareHandler> => {
    const handler = handlers[i] as MiddlewareHandler
    if (i === last) return handler(c, next)
    return handler(c, async () => {
      // A handler that answers without calling `next()` answers for the request, as under Hono.
      const res = await run(c, i + 1, next)
      if (res && !c.finalized) c.res = res
    })
  }
  return async function inSequence(c, next) {
    return run(c, 0, next)
  }
}

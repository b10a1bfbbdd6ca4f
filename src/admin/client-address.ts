import type { Context } from 'hono'

/** Names the client of a request, for rate limiting and logs. */
export type ClientAddressReader = (c: Context) => string

/**
 * The client address from headers: `cf-connecting-ip` (set by Cloudflare), else the first hop
 * of `x-forwarded-for`, else `x-real-ip`, else `unknown`. Behind no proxy these headers are the
 * client's own word; pass a reader built on `hono/conninfo` where the socket address is known.
 */
export const clientAddressFromHeaders: ClientAddressReader = (c) => {
  const cf = c.req.header('cf-connecting-ip')?.trim()
  if (cf) return cf
  const forwarded = c.req.header('x-forwarded-for')?.split(',')[0]?.trim()
  if (forwarded) return forwarded
  const real = c.req.header('x-real-ip')?.trim()
  if (real) return real
  return 'unknown'
}

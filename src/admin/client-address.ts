import type { Context } from 'hono'

/** Names the client of a request, for rate limiting and logs. */
export type ClientAddressReader = (c: Context) => string

/**
 * The client address as Cloudflare gives it (`cf-connecting-ip`, which a client cannot set
 * through Cloudflare), else `unknown`. The default on Workers; the Node and Deno entries pass a
 * reader of the socket's address instead, since there any header is the client's own word.
 */
export const cloudflareClientAddress: ClientAddressReader = (c) =>
  c.req.header('cf-connecting-ip')?.trim() || 'unknown'

/**
 * Trusts a reverse proxy in front of keyline: the first hop of `x-forwarded-for` (or
 * `x-real-ip`), else `fallback`. Use only when that proxy overwrites these headers, or a client
 * picks a fresh address per guess and escapes the limit (`KEYLINE_TRUST_PROXY=true` in the
 * Node and Deno entries).
 */
export const forwardedClientAddress =
  (fallback: ClientAddressReader): ClientAddressReader =>
  (c) =>
    c.req.header('x-forwarded-for')?.split(',')[0]?.trim() ||
    c.req.header('x-real-ip')?.trim() ||
    fallback(c)

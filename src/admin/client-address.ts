import type { Context } from 'hono'
import type { EnvRecord } from '../env.ts'

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

/**
 * The Node and Deno entries' client address: the socket's peer, read by the runtime's
 * `getConnInfo`; the first `x-forwarded-for` hop instead only with `KEYLINE_TRUST_PROXY=true`
 * (behind a reverse proxy that sets it).
 */
export const clientAddressFromSocket = (
  env: EnvRecord,
  getConnInfo: (c: Context) => { remote: { address?: string } }
): ClientAddressReader => {
  const socket: ClientAddressReader = (c) => {
    try {
      return getConnInfo(c).remote.address ?? 'unknown'
    } catch {
      return 'unknown'
    }
  }
  return env.KEYLINE_TRUST_PROXY === 'true' ? forwardedClientAddress(socket) : socket
}

import type { Context } from 'hono'
import { type ClientAddressReader, forwardedClientAddress } from '../admin/client-address.ts'
import type { EnvRecord } from '../env.ts'

/**
 * The Node and Deno entries' client address: the socket's peer, read by the runtime's
 * `getConnInfo`; the first `x-forwarded-for` hop instead only with `KEYLINE_TRUST_PROXY=true`
 * (behind a reverse proxy that sets it).
 */
export const socketClientAddress = (
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

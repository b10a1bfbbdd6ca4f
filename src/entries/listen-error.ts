/** Where a server tried to listen. */
export interface ListenTarget {
  readonly hostname: string
  readonly port: number
}

/** The code of a listen error: Node's `code` (`EADDRINUSE`) or Deno's error class name (`AddrInUse`). */
const codeOf = (error: unknown): string => {
  if (typeof error !== 'object' || error === null) return ''
  const { code, name } = error as { code?: unknown; name?: unknown }
  return typeof code === 'string' ? code : typeof name === 'string' ? name : ''
}

/**
 * The one sentence a Node or Deno server that cannot start ends with, naming the variable to
 * change: the port is taken (`PORT`), not allowed (`PORT`), or the address is not this
 * machine's (`HOST`); a bad `PORT`/`HOST`/`SHUTDOWN_TIMEOUT_MS` value says so. `undefined` for
 * any other error (a bug: let it show its stack).
 */
export const startFailure = (error: unknown, target?: ListenTarget): string | undefined => {
  if (error instanceof RangeError && /^(PORT|HOST|SHUTDOWN_TIMEOUT_MS) /.test(error.message)) {
    return `keyline cannot start: ${error.message}.`
  }
  if (!target) return undefined
  const where = `${target.hostname}:${target.port}`
  switch (codeOf(error)) {
    case 'EADDRINUSE':
    case 'AddrInUse':
      return `keyline cannot start: port ${target.port} is already in use on ${target.hostname}; set PORT to a free port (e.g. PORT=${target.port === 65_535 ? 8788 : target.port + 1}).`
    case 'EACCES':
    case 'PermissionDenied':
      return `keyline cannot start: it is not allowed to listen on ${where}; set PORT to a port above 1023.`
    case 'EADDRNOTAVAIL':
    case 'AddrNotAvailable':
    case 'ENOTFOUND':
      return `keyline cannot start: ${target.hostname} is not an address of this machine; set HOST to one (e.g. HOST=127.0.0.1).`
    default:
      return undefined
  }
}

/**
 * Preloaded (`node --import`) into Portkey's gateway, which listens on every interface and has
 * no option to choose one: every `listen` without a host is bound to 127.0.0.1 instead, so the
 * benchmark serves nothing beyond loopback.
 */
import { Server } from 'node:net'

const LOOPBACK = '127.0.0.1'
const listen = Server.prototype.listen

Server.prototype.listen = function (this: Server, ...args: unknown[]) {
  const [first, second] = args
  if (typeof first === 'number' || (typeof first === 'string' && /^\d+$/.test(first))) {
    if (second === undefined || second === null) args[1] = LOOPBACK
    else if (typeof second !== 'string') args.splice(1, 0, LOOPBACK)
  } else if (first && typeof first === 'object' && 'port' in first && !('host' in first)) {
    args[0] = { ...first, host: LOOPBACK }
  }
  return listen.apply(this, args as Parameters<typeof listen>)
} as typeof listen

/**
 * A real `redis-server` (Debian's, /usr/bin/redis-server) for one test: its own free port on
 * 127.0.0.1, no persistence (`--save '' --appendonly no`), stopped by `stop()`. Node only.
 */
import { spawn } from 'node:child_process'
import { createConnection } from 'node:net'
import { freePort } from './free-port.ts'
import { killGroup, trackGroup } from './process-group.ts'

export interface RedisServer {
  readonly port: number
  /** `redis://127.0.0.1:<port>` */
  readonly url: string
  /**
   * SIGSTOP: the server keeps its socket (the kernel still accepts connections) but answers
   * nothing, as a hung Redis does; `resume()` (SIGCONT) lets it answer again.
   */
  pause(): void
  resume(): void
  stop(): Promise<void>
}

/** The redis-server binary: `REDIS_SERVER` or the one on PATH. */
export const REDIS_SERVER_BIN = process.env.REDIS_SERVER ?? 'redis-server'

/** Resolves once the server answers `PING` with `+PONG`. */
const ping = (port: number): Promise<boolean> =>
  new Promise((resolve) => {
    const socket = createConnection({ host: '127.0.0.1', port })
    let reply = ''
    socket.once('error', () => resolve(false))
    socket.on('data', (chunk) => {
      reply += chunk.toString()
      if (reply.includes('\r\n')) {
        socket.destroy()
        resolve(reply.startsWith('+PONG'))
      }
    })
    socket.once('connect', () => socket.write('PING\r\n'))
  })

/** Starts a fresh redis-server and waits until it answers. */
export const startRedisServer = async (timeoutMs = 10_000): Promise<RedisServer> => {
  const port = await freePort()
  const child = spawn(
    REDIS_SERVER_BIN,
    [
      '--port',
      String(port),
      '--bind',
      '127.0.0.1',
      '--save',
      '',
      '--appendonly',
      'no',
      '--dir',
      '/tmp',
    ],
    { detached: true, stdio: ['ignore', 'ignore', 'pipe'] }
  )
  let stderr = ''
  child.stderr?.on('data', (chunk) => {
    stderr += chunk.toString()
  })
  const failed = new Promise<never>((_, reject) => {
    child.once('error', (error) =>
      reject(new Error(`cannot start ${REDIS_SERVER_BIN}: ${error.message}`))
    )
    child.once('exit', (code) => reject(new Error(`redis-server exited (${code}): ${stderr}`)))
  })
  failed.catch(() => undefined)
  if (child.pid === undefined) await failed
  const stop = trackGroup(child as typeof child & { pid: number })
  const until = performance.now() + timeoutMs
  while (!(await Promise.race([ping(port), failed]))) {
    if (performance.now() > until) {
      await stop()
      throw new Error(
        `redis-server on port ${port} did not answer within ${timeoutMs} ms: ${stderr}`
      )
    }
    await new Promise((resolve) => setTimeout(resolve, 25))
  }
  const pid = child.pid as number
  return {
    port,
    url: `redis://127.0.0.1:${port}`,
    pause: () => void killGroup(pid, 'SIGSTOP'),
    resume: () => void killGroup(pid, 'SIGCONT'),
    // A stopped process acts on SIGTERM only once it runs again.
    stop: async () => {
      killGroup(pid, 'SIGCONT')
      await stop()
    },
  }
}

import { realpathSync } from 'node:fs'
import { readFile } from 'node:fs/promises'
import type { AddressInfo } from 'node:net'
import { fileURLToPath } from 'node:url'
import type { ServerType } from '@hono/node-server'
import { getConnInfo } from '@hono/node-server/conninfo'
import type { AppOptions } from '../app.ts'
import { batchedSink } from '../log/sink.ts'
import type { SecretRegistry } from '../secrets/registry.ts'
import type { SharedStore } from '../store/shared-store.ts'
import { startNodeTelemetry } from '../telemetry/export/node.ts'
import { registerKeylineMetrics } from '../telemetry/record.ts'
import { startFailure } from './listen-error.ts'
import { listenOptions } from './listen-options.ts'
import { nodeFetch } from './node-fetch.ts'
import { createNodeServer } from './node-http.ts'
import { drain, listeningUrl, type ServerRuntime, wireServer } from './serve.ts'
import { ENTRY_HELP, startupReport, startupWarnings, wantsHelp } from './startup-report.ts'

/** A running Node server. */
export interface NodeServer {
  readonly server: ServerType
  readonly url: string
  /** The registry the server reads its credentials with. */
  readonly registry: SecretRegistry
  /** The shared store it uses (Redis, a file or memory). */
  readonly store: SharedStore
  /** Stops accepting connections and resolves once in-flight requests have finished. */
  close(): Promise<void>
}

/**
 * Starts keyline on Node with `@hono/node-server` (see {@link createNodeServer}: HTTP-layer
 * rejections as JSON errors, unread bodies discarded), over the one server wiring
 * ({@link wireServer}: `_FILE` secrets from disk, AWS stores with the AWS SDK's credential chain
 * when no static AWS keys are set, the shared store, the Fyers refresh timer). `close()` stops
 * accepting, drains in-flight requests for at most `SHUTDOWN_TIMEOUT_MS`, then closes the store.
 */
export const serveNode = async (options: AppOptions = {}): Promise<NodeServer> => {
  // Upstream calls go over node:http: cheaper than undici's fetch, uploads never copied (see nodeFetch).
  const { app, registry, listen, store, release } = await wireServer(
    NODE,
    options.fetch ? options : { ...options, fetch: nodeFetch() }
  )
  const server = await new Promise<ServerType>((resolve, reject) => {
    const s = createNodeServer(app.fetch, listen.hostname)
    s.once('error', (error) => {
      release().finally(() => reject(error))
    })
    s.listen(listen.port, listen.hostname, () => resolve(s))
  })
  const address = server.address() as AddressInfo
  const url = listeningUrl(address.address, address.port)

  let closing: Promise<void> | undefined
  const close = (): Promise<void> => {
    closing ??= (() => {
      const closeIdle = (): void => {
        if ('closeIdleConnections' in server) server.closeIdleConnections()
      }
      // Connections that finish their last response while draining go idle: close them too.
      const sweep = setInterval(closeIdle, 100)
      const stopped = new Promise<void>((resolve) => server.close(() => resolve()))
      closeIdle()
      return drain(stopped, listen.shutdownTimeoutMs, async () => {
        clearInterval(sweep)
        if ('closeAllConnections' in server) server.closeAllConnections()
        await release()
      })
    })()
    return closing
  }
  return { server, url, registry, store, close }
}

/** What Node gives the wiring. */
const NODE: ServerRuntime = {
  name: 'node',
  env: () => process.env,
  readFile: (path) => readFile(path, 'utf8'),
  getConnInfo,
}

/** Whether this file is what `node` was started with (through a symlink too, e.g. pnpm's). */
const isMain = ((): boolean => {
  const started = process.argv[1]
  if (!started) return false
  try {
    return realpathSync(started) === realpathSync(fileURLToPath(import.meta.url))
  } catch {
    return false
  }
})()

/** Where the server meant to listen, or `undefined` when `PORT`/`HOST` cannot be read. */
const safeListenTarget = () => {
  try {
    return listenOptions(process.env)
  } catch {
    return undefined
  }
}

if (isMain && wantsHelp(process.argv.slice(2))) {
  console.log(ENTRY_HELP)
  process.exit(0)
}

if (isMain) {
  const telemetry = await startNodeTelemetry(process.env)
  registerKeylineMetrics()
  // Log lines of one event-loop turn go out in one write; whatever is left, at exit.
  const logSink = batchedSink({
    out: (text) => process.stdout.write(text),
    err: (text) => process.stderr.write(text),
  })
  process.once('exit', () => logSink.flush())
  let started: NodeServer
  try {
    started = await serveNode({ logSink })
  } catch (error) {
    // A port in use or a bad PORT: one sentence naming the variable to change, no stack.
    const sentence = startFailure(error, safeListenTarget())
    if (!sentence) throw error
    process.stderr.write(`${sentence}\n`)
    await telemetry.shutdown()
    process.exit(1)
  }
  const { url, close } = started
  // One banner: a few lines on a terminal, else one JSON line (`msg: 'keyline listening'`).
  console.log(
    await startupReport(
      started,
      process.env,
      {
        runtime: 'node',
        url,
        ...(telemetry.prometheusUrl ? { metricsUrl: telemetry.prometheusUrl } : {}),
      },
      { tty: process.stdout.isTTY === true }
    )
  )
  // Configuration problems (a store's JSON secret read whole, a placeholder…), once, at start.
  startupWarnings(started.registry, process.env).then(
    (lines) => {
      for (const line of lines) console.log(JSON.stringify(line))
    },
    () => undefined
  )
  for (const signal of ['SIGTERM', 'SIGINT'] as const) {
    process.once(signal, () => {
      console.log(JSON.stringify({ level: 'info', msg: 'draining', signal }))
      close()
        .then(() => telemetry.shutdown())
        .then(() => process.exit(0))
    })
  }
}

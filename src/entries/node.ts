import { realpathSync } from 'node:fs'
import { readFile } from 'node:fs/promises'
import type { AddressInfo } from 'node:net'
import { fileURLToPath } from 'node:url'
import type { ServerType } from '@hono/node-server'
import { getConnInfo } from '@hono/node-server/conninfo'
import { type AppOptions, createApp } from '../app.ts'
import { batchedSink } from '../log/sink.ts'
import { SecretRegistry } from '../secrets/registry.ts'
import { sharedStoreFromEnv } from '../store/server-store.ts'
import { startNodeTelemetry } from '../telemetry/export/node.ts'
import { registerKeylineMetrics } from '../telemetry/record.ts'
import { awsCredentialChain } from './aws-credentials.ts'
import { socketClientAddress } from './client-address.ts'
import { startFailure } from './listen-error.ts'
import { listenOptions } from './listen-options.ts'
import { createNodeServer } from './node-http.ts'
import { startupWarnings } from './startup-report.ts'

/** A running Node server. */
export interface NodeServer {
  readonly server: ServerType
  readonly url: string
  /** The registry the server reads its credentials with. */
  readonly registry: SecretRegistry
  /** Stops accepting connections and resolves once in-flight requests have finished. */
  close(): Promise<void>
}

/**
 * Starts keyline on Node with `@hono/node-server` (see {@link createNodeServer}: HTTP-layer
 * rejections as JSON errors, unread bodies discarded), reading `_FILE` secrets from disk and AWS
 * stores with the AWS SDK's credential chain when no static AWS keys are set. On
 * SIGTERM/SIGINT it stops accepting, drains in-flight requests, and exits.
 */
export const serveNode = async (options: AppOptions = {}): Promise<NodeServer> => {
  const listen = listenOptions(process.env)
  const registry =
    options.registry ??
    new SecretRegistry({
      readFile: (path) => readFile(path, 'utf8'),
      stores: { credentials: awsCredentialChain() },
    })
  const clientAddress = socketClientAddress(process.env, getConnInfo)
  // Redis (KEYLINE_REDIS_URL), a file (KEYLINE_VAULT_FILE) or memory: vault, lock, reload epoch.
  const ownStore = options.store ? undefined : await sharedStoreFromEnv(process.env)
  const app = createApp({
    runtime: 'node',
    ...options,
    admin: { clientAddress, ...options.admin },
    registry,
    store: options.store ?? ownStore,
  })
  const stopRefreshTimer = app.fyersTokens.startTimer(() => process.env)
  const server = await new Promise<ServerType>((resolve, reject) => {
    const s = createNodeServer(app.fetch, listen.hostname)
    s.once('error', reject)
    s.listen(listen.port, listen.hostname, () => resolve(s))
  })
  const address = server.address() as AddressInfo
  const host = address.family === 'IPv6' ? `[${address.address}]` : address.address
  const url = `http://${host}:${address.port}`

  let closing: Promise<void> | undefined
  const close = (): Promise<void> => {
    closing ??= new Promise<void>((resolve) => {
      const closeIdle = (): void => {
        if ('closeIdleConnections' in server) server.closeIdleConnections()
      }
      // Connections that finish their last response while draining go idle: close them too.
      const sweep = setInterval(closeIdle, 100)
      const force = setTimeout(() => {
        if ('closeAllConnections' in server) server.closeAllConnections()
      }, listen.shutdownTimeoutMs)
      force.unref()
      stopRefreshTimer()
      server.close(() => {
        clearTimeout(force)
        clearInterval(sweep)
        ;(ownStore?.close() ?? Promise.resolve()).catch(() => undefined).then(resolve)
      })
      closeIdle()
    })
    return closing
  }
  return { server, url, registry, close }
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
  const metrics = telemetry.prometheusUrl ? { metrics_url: telemetry.prometheusUrl } : {}
  console.log(
    JSON.stringify({ level: 'info', msg: 'keyline listening', runtime: 'node', url, ...metrics })
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

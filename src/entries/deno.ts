/// <reference lib="deno.ns" />
import { getConnInfo } from 'hono/deno'
import { createApp } from '../app.ts'
import { SecretRegistry } from '../secrets/registry.ts'
import { sharedStoreFromEnv } from '../store/server-store.ts'
import { startDenoTelemetry } from '../telemetry/export/deno.ts'
import { registerKeylineMetrics } from '../telemetry/record.ts'
import { awsCredentialChain } from './aws-credentials.ts'
import { socketClientAddress } from './client-address.ts'
import { httpLayerCheck, httpLayerResponse } from './http-errors.ts'
import { startFailure } from './listen-error.ts'
import { type ListenOptions, listenOptions } from './listen-options.ts'
import { startupWarnings } from './startup-report.ts'

/** Ends the process with the one sentence of a start failure, or rethrows a bug. */
const failToStart = (error: unknown, target?: ListenOptions): never => {
  const sentence = startFailure(error, target)
  if (!sentence) throw error
  console.error(sentence)
  Deno.exit(1)
}

let listen: ListenOptions
try {
  listen = listenOptions(Deno.env.toObject())
} catch (error) {
  failToStart(error)
}
const telemetry = startDenoTelemetry(Deno.env.toObject())
registerKeylineMetrics()
const registry = new SecretRegistry({
  readFile: (path) => Deno.readTextFile(path),
  stores: { credentials: awsCredentialChain() },
})
const clientAddress = socketClientAddress(Deno.env.toObject(), getConnInfo)
// Redis (KEYLINE_REDIS_URL), a file (KEYLINE_VAULT_FILE) or memory: vault, lock, reload epoch.
const store = await sharedStoreFromEnv(Deno.env.toObject())
const app = createApp({ registry, runtime: 'deno', admin: { clientAddress }, store })
const stopRefreshTimer = app.fyersTokens.startTimer(() => Deno.env.toObject())

const serve = (): Deno.HttpServer => {
  try {
    return Deno.serve(
      {
        hostname: listen.hostname,
        port: listen.port,
        onListen: ({ hostname, port }) => {
          const host = hostname.includes(':') ? `[${hostname}]` : hostname
          const url = `http://${host}:${port}`
          console.log(
            JSON.stringify({ level: 'info', msg: 'keyline listening', runtime: 'deno', url })
          )
          // Configuration problems (a store's JSON secret read whole, a placeholder…), at start.
          startupWarnings(registry, Deno.env.toObject()).then(
            (lines) => {
              for (const line of lines) console.log(JSON.stringify(line))
            },
            () => undefined
          )
        },
      },
      (request, info) => {
        // What Deno's HTTP server lets through but Node's rejects, answered as Node does.
        const rejected = httpLayerCheck(request)
        return rejected ? httpLayerResponse(rejected) : app.fetch(request, info)
      }
    )
  } catch (error) {
    // A port in use: one sentence naming the variable to change, no stack.
    return failToStart(error, listen)
  }
}
const server = serve()

for (const signal of ['SIGTERM', 'SIGINT'] as const) {
  Deno.addSignalListener(signal, () => {
    console.log(JSON.stringify({ level: 'info', msg: 'draining', signal }))
    stopRefreshTimer()
    server
      .shutdown()
      .then(() => store.close())
      .then(() => telemetry.shutdown())
      .then(() => Deno.exit(0))
  })
}

/// <reference lib="deno.ns" />
/**
 * The Deno entry: `deno run --allow-net --allow-env --allow-read src/entries/deno.ts` serves
 * keyline with `Deno.serve` over the one server wiring ({@link wireServer}); `serveDeno()` does
 * the same for an app of your own. On SIGTERM/SIGINT it stops accepting, drains in-flight
 * requests for at most `SHUTDOWN_TIMEOUT_MS`, closes the shared store and exits 0.
 */
import { getConnInfo } from 'hono/deno'
import type { AppOptions } from '../app.ts'
import type { SecretRegistry } from '../secrets/registry.ts'
import type { SharedStore } from '../store/shared-store.ts'
import { startDenoTelemetry } from '../telemetry/export/deno.ts'
import { registerKeylineMetrics } from '../telemetry/record.ts'
import { httpLayerCheck, httpLayerResponse } from './http-errors.ts'
import { startFailure } from './listen-error.ts'
import { listenOptions } from './listen-options.ts'
import { drain, listeningUrl, type ServerRuntime, wireServer } from './serve.ts'
import { ENTRY_HELP, startupReport, startupWarnings, wantsHelp } from './startup-report.ts'

/** A running Deno server. */
export interface DenoServer {
  readonly server: Deno.HttpServer
  readonly url: string
  /** The registry the server reads its credentials with. */
  readonly registry: SecretRegistry
  /** The shared store it uses (Redis, a file or memory). */
  readonly store: SharedStore
  /** Stops accepting connections and resolves once in-flight requests have finished (bounded). */
  close(): Promise<void>
}

/** What Deno gives the wiring. */
const DENO: ServerRuntime = {
  name: 'deno',
  env: () => Deno.env.toObject(),
  readFile: (path) => Deno.readTextFile(path),
  getConnInfo,
}

/**
 * Starts keyline on Deno: `Deno.serve` on `HOST`/`PORT`, with the HTTP-layer checks Node's
 * server makes (answered as Node answers them). `close()` drains for at most
 * `SHUTDOWN_TIMEOUT_MS`, then closes the shared store.
 */
export const serveDeno = async (options: AppOptions = {}): Promise<DenoServer> => {
  const { app, registry, listen, store, release } = await wireServer(DENO, options)
  let url = listeningUrl(listen.hostname, listen.port)
  let server: Deno.HttpServer
  try {
    server = await new Promise<Deno.HttpServer>((resolve, reject) => {
      try {
        const s: Deno.HttpServer = Deno.serve(
          {
            hostname: listen.hostname,
            port: listen.port,
            onListen: ({ hostname, port }) => {
              url = listeningUrl(hostname, port)
              // onListen may run before Deno.serve returns (s is not assigned yet).
              queueMicrotask(() => resolve(s))
            },
          },
          (request, info) => {
            // What Deno's HTTP server lets through but Node's rejects, answered as Node does.
            const rejected = httpLayerCheck(request)
            return rejected ? httpLayerResponse(rejected) : app.fetch(request, info)
          }
        )
      } catch (error) {
        reject(error)
      }
    })
  } catch (error) {
    await release()
    throw error
  }
  let closing: Promise<void> | undefined
  const close = (): Promise<void> => {
    closing ??= drain(server.shutdown(), listen.shutdownTimeoutMs, release)
    return closing
  }
  return { server, url, registry, store, close }
}

if (import.meta.main && wantsHelp(Deno.args)) {
  console.log(ENTRY_HELP)
  Deno.exit(0)
}

if (import.meta.main) {
  const telemetry = startDenoTelemetry(Deno.env.toObject())
  registerKeylineMetrics()
  let started: DenoServer
  try {
    started = await serveDeno()
  } catch (error) {
    // A port in use or a bad PORT: one sentence naming the variable to change, no stack.
    let target: ReturnType<typeof listenOptions> | undefined
    try {
      target = listenOptions(Deno.env.toObject())
    } catch {
      target = undefined
    }
    const sentence = startFailure(error, target)
    if (!sentence) throw error
    console.error(sentence)
    Deno.exit(1)
  }
  // One banner: a few lines on a terminal, else one JSON line (`msg: 'keyline listening'`).
  console.log(
    await startupReport(
      started,
      Deno.env.toObject(),
      {
        runtime: 'deno',
        url: started.url,
      },
      { tty: Deno.stdout.isTerminal() }
    )
  )
  // Configuration problems (a store's JSON secret read whole, a placeholder…), once, at start.
  startupWarnings(started.registry, Deno.env.toObject()).then(
    (lines) => {
      for (const line of lines) console.log(JSON.stringify(line))
    },
    () => undefined
  )
  for (const signal of ['SIGTERM', 'SIGINT'] as const) {
    Deno.addSignalListener(signal, () => {
      console.log(JSON.stringify({ level: 'info', msg: 'draining', signal }))
      started
        .close()
        .then(() => telemetry.shutdown())
        .then(() => Deno.exit(0))
    })
  }
}

/**
 * The one wiring of a server entry (Node and Deno): the secret registry with `_FILE` reads and
 * the AWS credential chain, the client address from the socket, the shared store from the
 * environment, the app, the Fyers refresh timer, and the bounded drain on shutdown. Each entry
 * adds only what its runtime has: how to read the environment and files, how to listen.
 */
import type { Context } from 'hono'
import { clientAddressFromSocket } from '../admin/client-address.ts'
import { bundledConsoleAssets } from '../admin/console/bundled-assets.ts'
import { type AppOptions, createApp, type KeylineApp } from '../app.ts'
import { within } from '../bounded-wait.ts'
import { type EnvRecord, fixedEnv } from '../env.ts'
import { startRefreshTimer } from '../providers/fyers/token-timer.ts'
import type { FileReader } from '../secrets/read-value.ts'
import { SecretRegistry } from '../secrets/registry.ts'
import { REDIS_URL_VARIABLE, sharedStoreFromEnv } from '../store/server-store.ts'
import type { SharedStore } from '../store/shared-store.ts'
import { awsCredentialChain } from './aws-credentials.ts'
import { type ListenOptions, listenOptions } from './listen-options.ts'

/** What a runtime gives the wiring. */
export interface ServerRuntime {
  readonly name: 'node' | 'deno'
  /** The process environment as it is now. */
  readonly env: () => EnvRecord
  /** Reads a mounted secret file (`NAME_FILE`). */
  readonly readFile: FileReader
  /** The runtime's `getConnInfo` (the socket's peer address). */
  readonly getConnInfo: (c: Context) => { remote: { address?: string } }
}

/** A wired keyline, before it listens. */
export interface ServerWiring {
  readonly app: KeylineApp
  /** The registry the app reads its credentials with (the start-up report reads it too). */
  readonly registry: SecretRegistry
  /** `HOST`, `PORT`, `SHUTDOWN_TIMEOUT_MS`. */
  readonly listen: ListenOptions
  /** The shared store the app uses (the start-up banner names its kind). */
  readonly store: SharedStore
  /** What shutdown does after the server stopped: the refresh timer, the store's connection. */
  release(): Promise<void>
}

/**
 * Wires keyline for a server runtime from `options` (the same options as `createApp`; a
 * `registry` or `store` given there is used as it is, and then not closed here). Throws a
 * `RangeError` naming the variable when `HOST`, `PORT` or `SHUTDOWN_TIMEOUT_MS` is malformed.
 */
export const wireServer = async (
  runtime: ServerRuntime,
  options: AppOptions = {}
): Promise<ServerWiring> => {
  const env = runtime.env()
  const listen = listenOptions(env)
  const registry =
    options.registry ??
    new SecretRegistry({
      readFile: runtime.readFile,
      stores: { credentials: awsCredentialChain() },
    })
  // Redis (KEYLINE_REDIS_URL), a file (KEYLINE_VAULT_FILE) or memory: vault, lock, reload epoch.
  const ownStore = options.store ? undefined : await sharedStoreFromEnv(env)
  const store = (options.store ?? ownStore) as SharedStore
  // Client quotas count in the same Redis, on a connection that never waits (else: memory).
  const redisUrl = env[REDIS_URL_VARIABLE]
  const ownLimits =
    options.limits || typeof redisUrl !== 'string' || redisUrl.trim() === ''
      ? undefined
      : (await import('../quota/redis-engine.ts')).redisEngine(redisUrl.trim())
  // The first requests find the connection up; a Redis that is down delays the start 1 s at most.
  if (ownLimits) await within(ownLimits.ready(), 1_000)
  const app = createApp({
    runtime: runtime.name,
    // Read once: a variable changed after start is not seen (as `HOST` and `PORT` are not).
    env: fixedEnv(env),
    ...options,
    admin: {
      clientAddress: clientAddressFromSocket(env, runtime.getConnInfo),
      consoleAssets: bundledConsoleAssets,
      ...options.admin,
    },
    registry,
    store,
    limits: options.limits ?? ownLimits,
  })
  const stopRefreshTimer = app.fyersTokens.startTimer(runtime.env, startRefreshTimer)
  return {
    app,
    registry,
    listen,
    store,
    release: async () => {
      stopRefreshTimer()
      await Promise.all([
        ownStore?.close().catch(() => undefined),
        ownLimits?.close().catch(() => undefined),
      ])
    },
  }
}

/**
 * Waits for `shutdown` at most `timeoutMs` (`SHUTDOWN_TIMEOUT_MS`), then for `release`: the
 * drain of in-flight requests is bounded, the store is closed either way.
 */
export const drain = async (
  shutdown: Promise<void>,
  timeoutMs: number,
  release: () => Promise<void>
): Promise<void> => {
  let timer: ReturnType<typeof setTimeout> | undefined
  const late = new Promise<void>((resolve) => {
    timer = setTimeout(resolve, timeoutMs)
  })
  await Promise.race([shutdown.catch(() => undefined), late])
  clearTimeout(timer)
  await release()
}

/** The URL a server listens at, IPv6 hosts bracketed. */
export const listeningUrl = (hostname: string, port: number): string =>
  `http://${hostname.includes(':') ? `[${hostname}]` : hostname}:${port}`

/**
 * The servers the load benchmarks start, each a process of its own on 127.0.0.1: the Anthropic
 * stub, keyline's Node entry, the bare Hono proxy and Portkey's gateway.
 */
import { join } from 'node:path'
import { pathToFileURL } from 'node:url'
import { freePort } from '../../test/support/free-port.ts'
import { baseEnv, type Service, startService } from './processes.ts'

/** Where a service's log goes: `<dir>/<name>-<port>.log`. */
const logIn = (dir: string, name: string, port: number): string => join(dir, `${name}-${port}.log`)

/** The Anthropic stub (`bench/servers/anthropic-stub.ts`) accepting `apiKey`. */
export const startStubProcess = async (options: {
  dir: string
  apiKey: string
}): Promise<Service> => {
  const port = await freePort()
  return startService({
    name: 'anthropic stub',
    command: process.execPath,
    args: ['bench/servers/anthropic-stub.ts'],
    env: { ...baseEnv(), BENCH_PORT: String(port), BENCH_API_KEY: options.apiKey },
    port,
    logFile: logIn(options.dir, 'stub', port),
    anyStatus: true,
  })
}

/** The SSE upstream (`bench/servers/sse-upstream.ts`): `bytes` of stream per reply. */
export const startSseUpstream = async (options: {
  dir: string
  apiKey: string
  bytes: number
}): Promise<Service> => {
  const port = await freePort()
  return startService({
    name: 'SSE upstream',
    command: process.execPath,
    args: ['bench/servers/sse-upstream.ts'],
    env: {
      ...baseEnv(),
      BENCH_PORT: String(port),
      BENCH_API_KEY: options.apiKey,
      BENCH_SSE_BYTES: String(options.bytes),
    },
    port,
    logFile: logIn(options.dir, 'sse', port),
  })
}

/** What keyline and the comparators forward to. */
export interface UpstreamConfig {
  dir: string
  /** The stub's base URL. */
  upstream: string
  apiKey: string
}

/**
 * keyline's Node entry, `node src/entries/node.ts`, as in production: `LOG_LEVEL` (default
 * `info`, one access line per request) written to a log file; `clientToken` may call it.
 */
export const startKeyline = async (
  options: UpstreamConfig & { clientToken: string; logLevel?: string }
): Promise<Service> => {
  const port = await freePort()
  return startService({
    name: 'keyline',
    command: process.execPath,
    args: ['src/entries/node.ts'],
    env: {
      ...baseEnv(),
      HOST: '127.0.0.1',
      PORT: String(port),
      LOG_LEVEL: options.logLevel ?? 'info',
      KEYLINE_CLIENT_TOKENS: options.clientToken,
      ANTHROPIC_API_KEY: options.apiKey,
      ANTHROPIC_BASE_URL: options.upstream,
    },
    port,
    logFile: logIn(options.dir, 'keyline', port),
    readyPath: '/healthz',
  })
}

/** The bare Hono pass-through proxy (`bench/servers/bare-proxy.ts`). */
export const startBareProxy = async (options: UpstreamConfig): Promise<Service> => {
  const port = await freePort()
  return startService({
    name: 'bare Hono proxy',
    command: process.execPath,
    args: ['bench/servers/bare-proxy.ts'],
    env: {
      ...baseEnv(),
      BENCH_PORT: String(port),
      BENCH_UPSTREAM: options.upstream,
      BENCH_API_KEY: options.apiKey,
    },
    port,
    logFile: logIn(options.dir, 'bare', port),
    readyPath: '/healthz',
  })
}

/**
 * Portkey's open-source gateway, `npx -y @portkey-ai/gateway --port=N --headless` (fetched
 * into npm's cache on first use, hence the long timeout), bound to 127.0.0.1 by a preload.
 * Its requests name the provider and upstream in headers: see {@link portkeyHeaders}.
 */
export const startPortkey = async (options: { dir: string }): Promise<Service> => {
  const port = await freePort()
  const preload = pathToFileURL(join(import.meta.dirname, 'loopback-only.ts')).href
  return startService({
    name: 'Portkey gateway',
    command: 'npx',
    args: ['-y', '@portkey-ai/gateway', `--port=${port}`, '--headless'],
    env: { ...baseEnv(), NODE_OPTIONS: `--import=${preload}` },
    cwd: options.dir,
    port,
    logFile: logIn(options.dir, 'portkey', port),
    anyStatus: true,
    readyTimeoutMs: 180_000,
  })
}

/** The headers that make Portkey forward to the stub as Anthropic with `apiKey`. */
export const portkeyHeaders = (upstream: string, apiKey: string): Record<string, string> => ({
  'x-portkey-provider': 'anthropic',
  'x-portkey-custom-host': `${upstream}/v1`,
  'x-api-key': apiKey,
})

import { writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'

/** A runtime keyline ships an entry for, as `/healthz` names it. */
export type RuntimeName = 'node' | 'workerd' | 'deno'

/** Every runtime, in the order suites run them. */
export const RUNTIMES: readonly RuntimeName[] = ['node', 'workerd', 'deno']

/** Environment variables or Worker bindings handed to a server: names to string values. */
export type Bindings = Readonly<Record<string, string>>

/** The repository root, with a trailing slash removed. */
export const REPO_ROOT = fileURLToPath(new URL('../../../', import.meta.url)).replace(/\/$/, '')

const bin = (name: string): string => join(REPO_ROOT, 'node_modules', '.bin', name)

/** Node 22 from node_modules (the system `node` may be older). */
export const NODE_BIN = bin('node')
/** Deno 2 from node_modules. */
export const DENO_BIN = bin('deno')
/** Wrangler's CLI script, run with {@link NODE_BIN} so it never picks up the system `node`. */
export const WRANGLER_JS = join(REPO_ROOT, 'node_modules', 'wrangler', 'bin', 'wrangler.js')

/** How to start one runtime's server and how to tell it is up. */
export interface LaunchSpec {
  readonly command: string
  readonly args: readonly string[]
  /** The whole environment of the process: nothing else is inherited. */
  readonly env: Record<string, string>
  /** Reads the server's base URL from one line of its output, once it is listening. */
  readonly readyUrl: (line: string) => string | undefined
  /** How long the server may take to answer `/healthz`. */
  readonly startTimeoutMs: number
}

/**
 * The base environment of every server process: `PATH` (with `node_modules/.bin` first, so
 * child processes find Node 22) and `HOME`, nothing else from the developer's shell, so provider
 * keys exported there never reach a test server.
 */
export const baseEnv = (): Record<string, string> => {
  const env: Record<string, string> = {
    PATH: [join(REPO_ROOT, 'node_modules', '.bin'), process.env.PATH ?? '/usr/bin:/bin'].join(':'),
    HOME: process.env.HOME ?? '/tmp',
    NO_COLOR: '1',
    FORCE_COLOR: '0',
  }
  // Where Deno keeps its module cache: not a secret, and re-downloading would make startup slow.
  if (process.env.DENO_DIR) env.DENO_DIR = process.env.DENO_DIR
  return env
}

const listeningUrl = (line: string): string | undefined => {
  if (!line.startsWith('{')) return undefined
  try {
    const entry = JSON.parse(line) as { msg?: unknown; url?: unknown }
    return entry.msg === 'keyline listening' && typeof entry.url === 'string'
      ? entry.url
      : undefined
  } catch {
    return undefined
  }
}

// biome-ignore lint/suspicious/noControlCharactersInRegex: strips ANSI colour escapes
const ANSI = /\u001b\[[0-9;]*m/g

const wranglerReadyUrl = (line: string): string | undefined =>
  /Ready on (http:\/\/\S+)/.exec(line.replace(ANSI, ''))?.[1]

/** Options of {@link launchSpec}. */
export interface LaunchOptions {
  readonly bindings: Bindings
  /** A temporary directory owned by this server, removed after it stops. */
  readonly dir: string
}

/**
 * Builds the command, arguments and environment that start `runtime`'s entry on a free loopback
 * port (port 0: the server picks one and prints its URL).
 *
 * - node: `node src/entries/node.ts` with `HOST`, `PORT` and the bindings as its environment.
 * - deno: `deno run --allow-net --allow-env --allow-read src/entries/deno.ts`, the same way.
 * - workerd: `wrangler dev` with each binding as `--var NAME:VALUE` (wrangler splits at the first
 *   colon only, and argv needs no quoting), an empty `--env-file` so a developer's `.dev.vars` or
 *   `.env` is never loaded, its own `--persist-to` and `XDG_CONFIG_HOME`, and metrics off.
 */
export const launchSpec = async (
  runtime: RuntimeName,
  { bindings, dir }: LaunchOptions
): Promise<LaunchSpec> => {
  const listen = { HOST: '127.0.0.1', PORT: '0' }
  switch (runtime) {
    case 'node':
      return {
        command: NODE_BIN,
        args: [join(REPO_ROOT, 'src/entries/node.ts')],
        env: { ...baseEnv(), ...bindings, ...listen },
        readyUrl: listeningUrl,
        startTimeoutMs: 30_000,
      }
    case 'deno':
      return {
        command: DENO_BIN,
        args: [
          'run',
          '--allow-net',
          '--allow-env',
          '--allow-read',
          join(REPO_ROOT, 'src/entries/deno.ts'),
        ],
        env: { ...baseEnv(), DENO_NO_UPDATE_CHECK: '1', ...bindings, ...listen },
        readyUrl: listeningUrl,
        startTimeoutMs: 30_000,
      }
    case 'workerd': {
      const envFile = join(dir, 'empty.env')
      await writeFile(envFile, '')
      const vars = Object.entries(bindings).flatMap(([name, value]) => {
        if (name.includes(':')) throw new TypeError(`binding name ${name} cannot hold ':'`)
        return ['--var', `${name}:${value}`]
      })
      return {
        command: NODE_BIN,
        args: [
          WRANGLER_JS,
          'dev',
          '--config',
          join(REPO_ROOT, 'wrangler.toml'),
          '--ip',
          '127.0.0.1',
          '--port',
          '0',
          '--inspector-port',
          '0',
          '--show-interactive-dev-session=false',
          '--persist-to',
          join(dir, 'state'),
          '--env-file',
          envFile,
          ...vars,
        ],
        env: {
          ...baseEnv(),
          WRANGLER_SEND_METRICS: 'false',
          CLOUDFLARE_INCLUDE_PROCESS_ENV: 'false',
          XDG_CONFIG_HOME: join(dir, 'config'),
        },
        readyUrl: wranglerReadyUrl,
        startTimeoutMs: 90_000,
      }
    }
  }
}

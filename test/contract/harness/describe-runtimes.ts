import { afterAll, beforeAll, describe } from 'vitest'
import { RUNTIMES, type RuntimeName } from './runtimes.ts'
import { type RunningServer, type StartServerOptions, startServer } from './server.ts'

/** What a suite's test cases see of the server of one runtime. */
export interface RuntimeContext {
  /** The runtime these cases run against; known while the suite is collected. */
  readonly runtime: RuntimeName
  /** Base URL of the running server, without a trailing slash. Only inside tests and hooks. */
  readonly url: string
  /** The running server (its output, pid, temporary directory). Only inside tests and hooks. */
  readonly server: RunningServer
  /** `fetch` against the server: `path` is resolved against {@link url}. */
  fetch(path: string, init?: RequestInit): Promise<Response>
}

/** Options of {@link describeRuntimes}. */
export interface DescribeRuntimesOptions extends StartServerOptions {
  /**
   * The runtimes to run the suite against. `KEYLINE_RUNTIMES=node,deno` in the environment
   * narrows every suite further, e.g. to iterate quickly without `wrangler dev`
   * (`KEYLINE_HARNESS_VERBOSE=1` logs how long each server took to start).
   * @default every runtime: node, workerd, deno
   */
  runtimes?: readonly RuntimeName[]
}

/**
 * The runtimes selected by `KEYLINE_RUNTIMES` (comma-separated), or all of them.
 * Unknown names are an error, so a typo does not silently skip everything.
 */
export const selectedRuntimes = (
  wanted: readonly RuntimeName[] = RUNTIMES,
  filter: string | undefined = process.env.KEYLINE_RUNTIMES
): RuntimeName[] => {
  if (!filter?.trim()) return [...wanted]
  const names = filter.split(',').map((name) => name.trim())
  for (const name of names) {
    if (!RUNTIMES.includes(name as RuntimeName)) {
      throw new Error(`KEYLINE_RUNTIMES: unknown runtime ${name} (known: ${RUNTIMES.join(', ')})`)
    }
  }
  return wanted.filter((runtime) => names.includes(runtime))
}

const serverContext = (runtime: RuntimeName): RuntimeContext & { running?: RunningServer } => {
  const ctx = {
    runtime,
    running: undefined as RunningServer | undefined,
    get server(): RunningServer {
      if (!ctx.running) {
        throw new Error(`the ${runtime} server is not running: use ctx.url inside tests or hooks`)
      }
      return ctx.running
    },
    get url(): string {
      return ctx.server.url
    },
    fetch(path: string, init?: RequestInit): Promise<Response> {
      return fetch(new URL(path, `${ctx.url}/`), init)
    },
  }
  return ctx
}

/**
 * Runs the same test cases against a real keyline server of each runtime (the matrix of unjs/h3's
 * `test/_setup.ts`): one `describe('<name> [<runtime>]')` per runtime, whose `beforeAll` starts
 * that runtime's entry on loopback with `options.bindings` and whose `afterAll` stops it.
 * Start one per test file at most: `wrangler dev` takes seconds to come up.
 *
 * @example
 * describeRuntimes('health', (ctx) => {
 *   it('answers', async () => {
 *     expect((await ctx.fetch('/healthz')).status).toBe(200)
 *   })
 * })
 */
export const describeRuntimes = (
  name: string,
  cases: (ctx: RuntimeContext) => void,
  options: DescribeRuntimesOptions = {}
): void => {
  const { runtimes, ...startOptions } = options
  for (const runtime of selectedRuntimes(runtimes)) {
    describe(`${name} [${runtime}]`, () => {
      const ctx = serverContext(runtime)
      beforeAll(async () => {
        ctx.running = await startServer(runtime, startOptions)
        if (process.env.KEYLINE_HARNESS_VERBOSE) {
          console.info(`[harness] ${name} [${runtime}] ready in ${ctx.running.startupMs} ms`)
        }
      }, 180_000)
      afterAll(async () => {
        await ctx.running?.stop()
        ctx.running = undefined
      }, 30_000)
      cases(ctx)
    })
  }
}

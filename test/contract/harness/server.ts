import { type ChildProcess, spawn } from 'node:child_process'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { exited, trackGroup } from '../../support/process-group.ts'
import {
  type Bindings,
  type LaunchSpec,
  launchSpec,
  REPO_ROOT,
  type RuntimeName,
} from './runtimes.ts'

/** A keyline server running as a child process on loopback. */
export interface RunningServer {
  readonly runtime: RuntimeName
  /** Base URL without a trailing slash, e.g. `http://127.0.0.1:41234`. */
  readonly url: string
  /** The process group id (the leader's pid). */
  readonly pid: number
  /** The temporary directory of this server (secret files, wrangler state), removed on stop. */
  readonly dir: string
  /** Milliseconds from spawn until `/healthz` answered 200. */
  readonly startupMs: number
  /** Everything the server wrote to stdout and stderr so far (the last 256 KiB). */
  output(): string
  /** Stops the whole process group (SIGTERM, then SIGKILL) and removes {@link dir}. */
  stop(): Promise<void>
}

/** Options of {@link startServer}. */
export interface StartServerOptions {
  /**
   * Environment variables (node, deno) or `--var` bindings (workerd); may be computed from the
   * server's temporary directory, e.g. to write `_FILE` secrets into it.
   */
  bindings?:
    | Bindings
    | ((server: { runtime: RuntimeName; dir: string }) => Bindings | Promise<Bindings>)
  /** Overrides the runtime's default start timeout. */
  startTimeoutMs?: number
  /**
   * Adjusts how the server is started (e.g. another `--config` or `--env-file` for wrangler),
   * given the default {@link LaunchSpec} and the server's temporary directory.
   */
  launch?: (
    spec: LaunchSpec,
    server: { runtime: RuntimeName; dir: string }
  ) => LaunchSpec | Promise<LaunchSpec>
}

const OUTPUT_LIMIT = 256 * 1024

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms))

/**
 * Starts `runtime`'s keyline entry as its own process group with a hermetic environment, waits
 * until it prints its URL and answers `GET /healthz` with 200, and returns a handle to it.
 * Rejects with the server's output when it exits early or does not come up in time (the group
 * is killed first).
 */
export const startServer = async (
  runtime: RuntimeName,
  options: StartServerOptions = {}
): Promise<RunningServer> => {
  const dir = await mkdtemp(join(tmpdir(), `keyline-contract-${runtime}-`))
  const bindings =
    typeof options.bindings === 'function'
      ? await options.bindings({ runtime, dir })
      : (options.bindings ?? {})
  const defaults = await launchSpec(runtime, { bindings, dir })
  const spec = options.launch ? await options.launch(defaults, { runtime, dir }) : defaults
  const timeoutMs = options.startTimeoutMs ?? spec.startTimeoutMs
  const started = performance.now()

  const child = spawn(spec.command, spec.args, {
    cwd: REPO_ROOT,
    env: spec.env,
    detached: true,
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  const pid = child.pid
  if (pid === undefined) {
    await rm(dir, { recursive: true, force: true })
    throw new Error(`could not spawn ${runtime} server: ${spec.command}`)
  }
  const stopGroup = trackGroup(child as ChildProcess & { pid: number })

  let output = ''
  let pending = ''
  let url: string | undefined
  const onChunk = (chunk: Buffer): void => {
    const text = chunk.toString('utf8')
    output = (output + text).slice(-OUTPUT_LIMIT)
    pending += text
    const lines = pending.split('\n')
    pending = lines.pop() ?? ''
    for (const line of lines) url ??= spec.readyUrl(line.trim())
  }
  child.stdout?.on('data', onChunk)
  child.stderr?.on('data', onChunk)
  const exit = exited(child)

  let stopping: Promise<void> | undefined
  const stop = (): Promise<void> => {
    stopping ??= (async () => {
      await stopGroup()
      await rm(dir, { recursive: true, force: true, maxRetries: 3 })
    })()
    return stopping
  }

  const fail = async (why: string): Promise<never> => {
    await stop()
    throw new Error(
      `${runtime} server ${why}\n$ ${spec.command} ${spec.args.join(' ')}\n--- output ---\n${output}`
    )
  }

  let exitedEarly = false
  void exit.then(() => {
    exitedEarly = true
  })
  const deadline = started + timeoutMs
  let ready = false
  while (!ready && performance.now() < deadline) {
    if (exitedEarly) {
      return fail(`exited before it was ready (code ${child.exitCode}, signal ${child.signalCode})`)
    }
    if (url) {
      try {
        const response = await fetch(`${url}/healthz`, { signal: AbortSignal.timeout(5_000) })
        await response.body?.cancel()
        ready = response.status === 200
      } catch {
        // not answering yet
      }
    }
    if (!ready) await sleep(url ? 100 : 50)
  }
  if (!ready) {
    return fail(`did not answer /healthz within ${timeoutMs} ms (url: ${url ?? 'not printed'})`)
  }
  const startupMs = Math.round(performance.now() - started)

  return {
    runtime,
    url: (url as string).replace(/\/$/, ''),
    pid,
    dir,
    startupMs,
    output: () => output,
    stop,
  }
}

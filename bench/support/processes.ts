/**
 * Child processes of the benchmarks: each runs as its own process group (so stopping it stops
 * what it started, e.g. npx's node), writes its output to a log file, never to the terminal,
 * and is stopped when the bench ends, fails or is interrupted (Ctrl-C).
 */
import { spawn } from 'node:child_process'
import { closeSync, existsSync, openSync, readFileSync } from 'node:fs'
import { dirname } from 'node:path'

import { exited, trackGroup } from '../../test/support/process-group.ts'
import { sleep } from './stats.ts'

/** A running child service. */
export interface Service {
  readonly name: string
  /** Its base URL, `http://127.0.0.1:<port>`. */
  readonly url: string
  readonly pid: number
  /** Where its standard output and error go. */
  readonly logFile: string
  /** Stops its whole process group (SIGTERM, then SIGKILL after a grace period). */
  stop(): Promise<void>
}

/** Options of {@link startService}. */
export interface ServiceOptions {
  name: string
  command: string
  args: string[]
  /** The whole environment of the child (nothing is inherited implicitly). */
  env: Record<string, string | undefined>
  /** Port the service listens on, on 127.0.0.1 (see `freePort` in test/support/free-port.ts). */
  port: number
  logFile: string
  /** @default the repository root */
  cwd?: string
  /** Path polled until it answers. @default '/' */
  readyPath?: string
  /** Whether any HTTP status counts as ready, not only 2xx. @default false */
  anyStatus?: boolean
  /** @default 20000 */
  readyTimeoutMs?: number
}

/** The repository root. */
export const ROOT = dirname(dirname(dirname(new URL(import.meta.url).pathname)))

const stops = new Set<() => Promise<void>>()
let hooked = false
/** Process groups the benchmarks started (each child leads its own). */
const groups = new Set<number>()

/** The fields of `/proc/<pid>/stat` after the command name (which may hold spaces). */
const statFields = (pid: number | 'self'): string[] => {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8')
  return stat.slice(stat.lastIndexOf(')') + 2).split(' ')
}

/** This process's own process group. */
const ownGroup = ((): number => {
  try {
    return Number(statFields('self')[2])
  } catch {
    return process.pid
  }
})()

/** Whether `pgid` is this process's group or one a benchmark started. */
export const isOurGroup = (pgid: number): boolean => pgid === ownGroup || groups.has(pgid)

/** Stops every service still running; safe to call more than once. */
export const stopAll = async (): Promise<void> => {
  const pending = [...stops]
  stops.clear()
  await Promise.allSettled(pending.map((stop) => stop()))
}

/**
 * Stops every service on SIGINT/SIGTERM and exits 130; the process-group helper also kills
 * whatever is left when the process exits.
 */
export const stopAllOnSignal = (): void => {
  if (hooked) return
  hooked = true
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    process.once(signal, () => {
      console.error(`\n${signal}: stopping the benchmark's processes`)
      stopAll().finally(() => process.exit(130))
    })
  }
}

/** The last `chars` characters of a log file, for error messages. */
export const logTail = (file: string, chars = 1500): string => {
  if (!existsSync(file)) return '(no log)'
  const text = readFileSync(file, 'utf8')
  return text.length > chars ? `…${text.slice(-chars)}` : text
}

/** The project's own settings: a child gets only those a benchmark gives it explicitly. */
const PROJECT_VARIABLES =
  /^(KEYLINE_|ANTHROPIC_|CLAUDE_|FYERS_|ADMIN_TOKEN|OTEL_|LOG_LEVEL$|HOST$|PORT$|SHUTDOWN_TIMEOUT_MS$|NODE_OPTIONS$|BENCH_)/

/**
 * The environment a child starts from: this process's, less keyline's own variables (so a
 * setting in the caller's shell cannot change what is measured), with this Node first on
 * `PATH` (so `#!/usr/bin/env node` scripts, npx's included, run on the same Node 22).
 */
export const baseEnv = (): Record<string, string | undefined> => {
  const env: Record<string, string | undefined> = {}
  for (const [name, value] of Object.entries(process.env)) {
    if (!PROJECT_VARIABLES.test(name)) env[name] = value
  }
  return { ...env, PATH: `${dirname(process.execPath)}:${process.env.PATH ?? ''}`, NO_COLOR: '1' }
}

/**
 * Starts a service on 127.0.0.1 and resolves once `readyPath` answers; rejects, with the tail
 * of its log, when it exits first or is not ready in time (and then stops it).
 */
export const startService = async (options: ServiceOptions): Promise<Service> => {
  stopAllOnSignal()
  const fd = openSync(options.logFile, 'a')
  const child = spawn(options.command, options.args, {
    cwd: options.cwd ?? ROOT,
    env: options.env,
    detached: true,
    stdio: ['ignore', fd, fd],
  })
  closeSync(fd)
  const spawnError = new Promise<Error>((resolve) => child.once('error', resolve))
  if (child.pid === undefined) throw await spawnError
  groups.add(child.pid)
  const stopGroup = trackGroup(child as typeof child & { pid: number })
  let stopped: Promise<void> | undefined
  const stop = (): Promise<void> => {
    stops.delete(stop)
    stopped ??= stopGroup()
    return stopped
  }
  stops.add(stop)
  const url = `http://127.0.0.1:${options.port}`
  const deadline = performance.now() + (options.readyTimeoutMs ?? 20_000)
  let gone = false
  void exited(child).then(() => {
    gone = true
  })
  for (;;) {
    if (gone) {
      await stop()
      throw new Error(
        `${options.name} exited (${child.exitCode ?? child.signalCode}) before it was ready:\n${logTail(options.logFile)}`
      )
    }
    if (performance.now() > deadline) {
      await stop()
      throw new Error(`${options.name} was not ready in time:\n${logTail(options.logFile)}`)
    }
    try {
      const res = await fetch(`${url}${options.readyPath ?? '/'}`, {
        signal: AbortSignal.timeout(2000),
      })
      await res.arrayBuffer()
      if (res.ok || options.anyStatus) break
    } catch {
      // not listening yet
    }
    await sleep(50)
  }
  return { name: options.name, url, pid: child.pid, logFile: options.logFile, stop }
}

/** What {@link runChild} returns. */
export interface ChildResult {
  /** The exit code; `null` when a signal ended it. */
  code: number | null
  /** Standard output and error, interleaved. */
  output: string
}

/**
 * Runs a command to completion as its own process group, collecting its output; stops it
 * (and rejects) after `timeoutMs`, or when the bench is interrupted.
 */
export const runChild = async (
  command: string,
  args: string[],
  options: { env: Record<string, string | undefined>; cwd?: string; timeoutMs: number }
): Promise<ChildResult> => {
  stopAllOnSignal()
  const child = spawn(command, args, {
    cwd: options.cwd ?? ROOT,
    env: options.env,
    detached: true,
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  if (child.pid === undefined) {
    throw await new Promise<Error>((resolve) => child.once('error', resolve))
  }
  groups.add(child.pid)
  const stop = trackGroup(child as typeof child & { pid: number })
  stops.add(stop)
  let output = ''
  child.stdout?.on('data', (chunk: Buffer) => {
    output += chunk.toString()
  })
  child.stderr?.on('data', (chunk: Buffer) => {
    output += chunk.toString()
  })
  let timer: NodeJS.Timeout | undefined
  const timedOut = new Promise<'timeout'>((resolve) => {
    timer = setTimeout(() => resolve('timeout'), options.timeoutMs)
  })
  const closed = new Promise<'closed'>((resolve) => child.once('close', () => resolve('closed')))
  const outcome = await Promise.race([closed, timedOut])
  clearTimeout(timer)
  // Also stops what it left behind in its group.
  stops.delete(stop)
  await stop()
  if (outcome === 'timeout') {
    throw new Error(`${command} ${args.join(' ')}: no exit after ${options.timeoutMs} ms`)
  }
  return { code: child.exitCode, output }
}

/** User + system CPU time of a process so far, in microseconds (Linux only). */
export const cpuMicros = (pid: number): number => {
  const fields = statFields(pid)
  const ticks = Number(fields[11]) + Number(fields[12])
  return (ticks * 1_000_000) / 100 // USER_HZ is 100 on Linux
}

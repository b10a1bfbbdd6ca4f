/**
 * Child processes run as their own process group (spawned with `detached: true`), so stopping
 * one also stops what it started (wrangler's workerd, a runtime wrapper's binary), and none
 * outlives the test worker. Node only.
 */
import type { ChildProcess } from 'node:child_process'

const GRACE_MS = 5_000
const live = new Set<number>()
let hooked = false

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms))

/** Sends `signal` to the whole group; `false` when nothing of it is left. */
export const killGroup = (pid: number, signal: NodeJS.Signals): boolean => {
  try {
    process.kill(-pid, signal)
    return true
  } catch {
    return false
  }
}

/** Resolves when `child` has exited (at once if it already has). */
export const exited = (child: ChildProcess): Promise<void> =>
  child.exitCode !== null || child.signalCode !== null
    ? Promise.resolve()
    : new Promise((resolve) => child.once('exit', () => resolve()))

/**
 * Tracks the group led by `child` and returns its stop function: SIGTERM and a grace period,
 * then SIGKILL until nothing of the group is left. Every tracked group still alive when the
 * test worker exits is killed.
 */
export const trackGroup = (child: ChildProcess & { pid: number }): (() => Promise<void>) => {
  const { pid } = child
  if (!hooked) {
    hooked = true
    process.once('exit', () => {
      for (const group of live) killGroup(group, 'SIGKILL')
    })
  }
  live.add(pid)
  const exit = exited(child)
  return async () => {
    if (killGroup(pid, 'SIGTERM')) await Promise.race([exit, sleep(GRACE_MS)])
    const until = performance.now() + GRACE_MS
    while (killGroup(pid, 'SIGKILL') && performance.now() < until) await sleep(25)
    await Promise.race([exit, sleep(GRACE_MS)])
    live.delete(pid)
  }
}

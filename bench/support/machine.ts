/**
 * How busy the machine was with other work while the benchmarks ran: once a second, the CPU
 * time of every process (`/proc/<pid>/stat`) not in this process's group nor in a group the
 * benchmarks started. The benchmarks share a small machine; this says how far to trust a run's
 * figures. Linux only: elsewhere it reports nothing.
 */
import { readdirSync, readFileSync } from 'node:fs'
import { availableParallelism } from 'node:os'

/** Clock ticks per second of /proc's counters (USER_HZ, 100 on Linux). */
const TICKS_PER_SECOND = 100

/** `[pgid, utime + stime]` of a process, or `undefined` once it is gone. */
const readProcess = (pid: string): [number, number] | undefined => {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8')
    // the fields after "(comm) ": state ppid pgrp … utime (14th) stime (15th)
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ')
    return [Number(fields[2]), Number(fields[11]) + Number(fields[12])]
  } catch {
    return undefined
  }
}

/** A running monitor. */
export interface LoadMonitor {
  /** Share of all cores (0–1) other processes kept busy since the start or the last mark. */
  mark(): number | undefined
  stop(): void
}

/** Starts sampling; `ours(pgid)` tells the benchmark's own process groups. */
export const monitorOtherLoad = (ours: (pgid: number) => boolean): LoadMonitor => {
  let seen: Map<number, number> | undefined
  let other = 0
  let since = performance.now()
  let working = true
  const sample = (): void => {
    let pids: string[]
    try {
      pids = readdirSync('/proc').filter((name) => /^\d+$/.test(name))
    } catch {
      working = false
      return
    }
    const now = new Map<number, number>()
    for (const pid of pids) {
      const read = readProcess(pid)
      if (!read || ours(read[0])) continue
      const [, ticks] = read
      now.set(Number(pid), ticks)
      // the first sample is the baseline; a process first seen later started since
      if (seen) other += ticks - (seen.get(Number(pid)) ?? 0)
    }
    seen = now
  }
  sample()
  const timer = setInterval(sample, 1000)
  timer.unref()
  return {
    mark() {
      sample()
      const seconds = (performance.now() - since) / 1000
      const share = other / (seconds * TICKS_PER_SECOND * availableParallelism())
      other = 0
      since = performance.now()
      return working && seconds > 0 ? Math.min(1, Math.max(0, share)) : undefined
    },
    stop() {
      clearInterval(timer)
    },
  }
}

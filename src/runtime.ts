/**
 * Which runtime the code runs on, and the one thing that differs between them here (timers
 * that keep a process alive): the one place that looks at the runtime's globals.
 */
import { getRuntimeKey } from 'hono/adapter'

/** The runtime's name as `/healthz` and the status report it: `node`, `deno`, `workerd`, … */
export const runtimeName = (): string => getRuntimeKey()

/** Whether the code runs on Cloudflare Workers (`navigator.userAgent === 'Cloudflare-Workers'`). */
export const isWorkersRuntime = (): boolean => {
  try {
    return globalThis.navigator?.userAgent === 'Cloudflare-Workers'
  } catch {
    return false
  }
}

/**
 * Lets a background timer not keep the process alive: Node's `timer.unref()`, Deno's
 * `Deno.unrefTimer(id)` (found structurally, so no Deno types are needed); a no-op on Workers,
 * where timers never outlive a request.
 */
export const unrefTimer = (timer: ReturnType<typeof setTimeout>): void => {
  const deno = (globalThis as { Deno?: { unrefTimer?: (id: number) => void } }).Deno
  if (typeof timer === 'number') deno?.unrefTimer?.(timer)
  else (timer as { unref?: () => void }).unref?.()
}

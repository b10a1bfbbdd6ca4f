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

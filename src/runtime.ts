/**
 * Which runtime the code runs on, where it keeps the environment, and the one thing that
 * differs between them here (timers that keep a process alive): the one place that looks at
 * the runtime's globals (`hono/adapter` did the first two; test/unit/runtime.test.ts holds the
 * two to the same answers).
 */

/** The runtimes keyline runs on, told apart by `navigator.userAgent` as `hono/adapter` does. */
const USER_AGENTS = [
  ['deno', 'Deno'],
  ['workerd', 'Cloudflare-Workers'],
  ['node', 'Node.js'],
] as const

/** An environment as a runtime keeps it (`EnvRecord`, which `env.ts` builds on this). */
type RuntimeEnv = Readonly<Record<string, unknown>>

interface RuntimeGlobals {
  navigator?: { userAgent?: unknown }
  process?: { env?: RuntimeEnv; release?: { name?: string } }
  Deno?: { env: { toObject(): RuntimeEnv }; unrefTimer?: (id: number) => void }
}

const runtimeGlobals = globalThis as RuntimeGlobals

let detected: string | undefined

const detect = (): string => {
  const agent = runtimeGlobals.navigator?.userAgent
  for (const [name, prefix] of USER_AGENTS) {
    if (typeof agent === 'string' && agent.startsWith(prefix)) return name
  }
  return runtimeGlobals.process?.release?.name === 'node' ? 'node' : 'other'
}

/**
 * The runtime's name as `/healthz` and the status report it, as `hono/adapter` names it: `node`,
 * `deno`, `workerd`, else `other`. Looked up once: the runtime does not change.
 */
export const runtimeName = (): string => {
  detected ??= detect()
  return detected
}

/**
 * The environment as the runtime keeps it, as `hono/adapter`'s `env(c)` reads it: the Workers
 * bindings (`bindings`, a request's `c.env`) on workerd, `Deno.env` on Deno, `process.env`
 * elsewhere.
 */
export const runtimeEnv = (bindings: unknown): RuntimeEnv | undefined => {
  const name = runtimeName()
  if (name === 'workerd') return bindings as RuntimeEnv | undefined
  if (name === 'deno') return runtimeGlobals.Deno?.env.toObject()
  return runtimeGlobals.process?.env
}

/** Whether the code runs on Cloudflare Workers (`navigator.userAgent` `Cloudflare-Workers`). */
export const isWorkersRuntime = (): boolean => runtimeName() === 'workerd'

/**
 * Lets a background timer not keep the process alive: Node's `timer.unref()`, Deno's
 * `Deno.unrefTimer(id)` (found structurally, so no Deno types are needed); a no-op on Workers,
 * where timers never outlive a request.
 */
export const unrefTimer = (timer: ReturnType<typeof setTimeout>): void => {
  if (typeof timer === 'number') runtimeGlobals.Deno?.unrefTimer?.(timer)
  else (timer as { unref?: () => void }).unref?.()
}

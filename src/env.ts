import type { Context } from 'hono'
import { runtimeEnv } from './runtime.ts'

/** The environment a request sees: Workers bindings, `process.env` or `Deno.env`. */
export type EnvRecord = Readonly<Record<string, unknown>>

/** Reads the environment a request sees. */
export type EnvReader = (c: Context) => EnvRecord

/**
 * The environment as the runtime keeps it (`runtimeEnv`: Workers bindings on workerd,
 * `process.env` on Node, `Deno.env` on Deno), with the string bindings of `c.env` laid over it
 * elsewhere, so bindings passed to `app.request(path, init, env)` count on every runtime.
 */
export const readEnv: EnvReader = (c) => {
  let read = perRequest.get(c)
  if (!read) {
    read = overlayBindings(c)
    perRequest.set(c, read)
  }
  return read
}

/** One read per request: on Deno `Deno.env.toObject()` copies the whole environment. */
const perRequest = new WeakMap<Context, EnvRecord>()

const overlayBindings = (c: Context, base: EnvRecord = runtimeEnv(c.env) ?? {}): EnvRecord => {
  const bindings = c.env as EnvRecord | undefined
  if (!bindings || base === bindings || typeof bindings !== 'object') return base
  const overlay: Record<string, unknown> = {}
  let any = false
  for (const [key, value] of Object.entries(bindings)) {
    if (typeof value === 'string') {
      overlay[key] = value
      any = true
    }
  }
  return any ? { ...base, ...overlay } : base
}

/**
 * The environment of a server entry, read once at start: a frozen copy of `base` (Node's
 * `process.env` costs a native lookup per variable read, Deno's `Deno.env.toObject()` a copy
 * per request), with the string bindings of `c.env` laid over it as {@link readEnv} does. Frozen,
 * so what derives from it (the store plan, the registry snapshot) is computed once and reused.
 */
export const fixedEnv = (base: EnvRecord): EnvReader => {
  const fixed: EnvRecord = Object.freeze({ ...base })
  return (c) => {
    const bindings = c.env as EnvRecord | undefined
    if (!bindings || typeof bindings !== 'object') return fixed
    let read = perRequest.get(c)
    if (!read) {
      read = overlayBindings(c, fixed)
      perRequest.set(c, read)
    }
    return read
  }
}

/** Reads only `c.env`: hermetic, for tests and for apps that pass their bindings explicitly. */
export const bindingsOnly: EnvReader = (c) => (c.env ?? {}) as EnvRecord

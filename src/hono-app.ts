/**
 * Every Hono app keyline builds, on one router: `RegExpRouter`, the one Hono's default
 * `SmartRouter` picks for keyline's routes anyway. Naming it saves the Worker the two routers
 * it would never use (`SmartRouter`, `TrieRouter`). Not strict: `/v1/messages/` is
 * `/v1/messages`, with the same body limit and validation, and `/admin/` is `/admin`.
 */
import type { Env, Hono } from 'hono'
import { HonoBase } from 'hono/hono-base'
import { RegExpRouter } from 'hono/router/reg-exp-router'

/** A new Hono app on `RegExpRouter`, a trailing slash ignored. */
export const honoApp = <E extends Env = Env>(): Hono<E> =>
  new HonoBase<E>({ router: new RegExpRouter(), strict: false }) as Hono<E>

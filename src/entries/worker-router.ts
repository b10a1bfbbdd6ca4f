/**
 * The Worker's router (wrangler.toml `[alias]` of `hono/router/reg-exp-router`): Hono's
 * `PatternRouter` in place of `RegExpRouter`, in a fifth of the code, which the Worker's 64 KiB
 * gzip budget needs. It matches routes as RegExpRouter does (one regular expression a route,
 * tried in the order they were added), but for a trailing slash, which PatternRouter allows on
 * every route: the path Hono routes has one only when the request's ended in two (`strict:
 * false` strips one), and RegExpRouter then matches only the routes ending in a wildcard, so this
 * one does too. Node, Deno and the package keep `RegExpRouter`, which compiles every route into
 * one expression for the throughput they are measured on.
 */
import type { Params, Result } from 'hono/router'
import { PatternRouter } from 'hono/router/pattern-router'

export class RegExpRouter<T> extends PatternRouter<T> {
  /** What each route without a wildcard was added with (Hono adds a new value each time). */
  readonly #exact = new Set<T>()

  override add(method: string, path: string, handler: T): void {
    if (!path.includes('*')) this.#exact.add(handler)
    super.add(method, path, handler)
  }

  override match(method: string, path: string): Result<T> {
    const result = super.match(method, path) as [[T, Params][]]
    if (path.length < 2 || !path.endsWith('/')) return result
    return [result[0].filter(([handler]) => !this.#exact.has(handler))]
  }
}

import type { ParamIndexMap, Params, Result } from 'hono/router'
import { RegExpRouter } from 'hono/router/reg-exp-router'
import { describe, expect, it } from 'vitest'
import { createApp } from '../../src/app.ts'
import { RegExpRouter as WorkerRouter } from '../../src/entries/worker-router.ts'

/**
 * The Worker's router (wrangler.toml `[alias]`: Hono's PatternRouter in place of RegExpRouter)
 * routes every one of keyline's routes as Node and Deno's does: each route's path, with its
 * parameters filled in, with a path segment more or a trailing slash, and paths no route has,
 * under every method, give the same handlers in the same order with the same parameters.
 */
type Router = RegExpRouter<number> | InstanceType<typeof WorkerRouter<number>>

/** What a router's match says: each handler (a route's index) with its parameters. */
const matched = (router: Router, method: string, path: string): [number, Params][] => {
  const [handlers, stash] = router.match(method, path) as Result<number>
  return handlers.map(([handler, params]) => {
    if (!stash) return [handler, { ...(params as Params) }]
    const values: Params = {}
    for (const [name, at] of Object.entries(params as ParamIndexMap)) values[name] = stash[at] ?? ''
    return [handler, values]
  })
}

/** A path a route's pattern matches: its parameters and wildcard filled in. */
const concrete = (pattern: string): string =>
  pattern.replace(/:(\w+)(\{[^}]*\})?/g, (_, name: string) => `${name}-1`).replace(/\*/g, 'a/b')

describe('the Worker’s router', () => {
  const app = createApp()
  const routes = app.routes
  const regExp = new RegExpRouter<number>()
  const worker = new WorkerRouter<number>()
  routes.forEach(({ method, path }, i) => {
    regExp.add(method, path, i)
    worker.add(method, path, i)
  })

  it('matches each of keyline’s routes, and paths none has, as RegExpRouter does', () => {
    expect(routes.length).toBeGreaterThan(20)
    const paths = new Set<string>(['/', '//', '/nope', '/v1', '/v1/', '/v1/nope/deeper', '/admin/'])
    for (const { path } of routes) {
      const filled = concrete(path)
      paths.add(filled)
      paths.add(`${filled}/extra`)
      // What Hono routes for a request path that ends in two slashes (`strict: false` strips one).
      paths.add(`${filled}/`)
    }
    const methods = new Set(['GET', 'POST', 'PUT', 'DELETE', 'PATCH', 'OPTIONS'])
    let routed = 0
    for (const method of methods) {
      for (const path of paths) {
        const expected = matched(regExp, method, path)
        expect(matched(worker, method, path), `${method} ${path}`).toEqual(expected)
        if (expected.some(([i]) => routes[i]?.method !== 'ALL')) routed++
      }
    }
    // Not only middleware: most paths reach a route's own handler.
    expect(routed).toBeGreaterThan(routes.filter((r) => r.method !== 'ALL').length / 2)
  })
})

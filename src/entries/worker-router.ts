/**
 * The Worker's router (wrangler.toml `[alias]` of `hono/router/reg-exp-router`): Hono's
 * `PatternRouter` in place of `RegExpRouter`. It matches the same routes the same way (one
 * regular expression a route, tried in the order they were added) in a fifth of the code, which
 * the Worker's 64 KiB gzip budget needs; Node, Deno and the package keep `RegExpRouter`, which
 * compiles every route into one expression for the throughput they are measured on.
 */
export { PatternRouter as RegExpRouter } from 'hono/router/pattern-router'

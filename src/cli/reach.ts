/**
 * How far a reload or a promotion reached, in one sentence, from the `propagated` flag of the
 * admin API's answer: through a shared store (KV on Workers, Redis on Node and Deno) it reaches
 * every instance; without one, only the instance that answered.
 */
const sharedStore = (runtime: string): string =>
  runtime === 'workerd' ? 'bind KEYLINE_KV' : 'set KEYLINE_REDIS_URL'

/** `what` is the change, capitalised, e.g. `Reloaded` or `The promotion`. */
export const reachSentence = (
  what: string,
  runtime: string,
  propagated: boolean,
  epoch?: string | null
): string =>
  propagated
    ? `${what} reached this instance, and every instance follows within 5 s through the shared store${epoch ? ` (reload epoch ${epoch})` : ''}.`
    : `${what} reached this instance only: no shared store carries it to other instances (${sharedStore(runtime)} for that).`

/** The same, as the outcome of a rotation's reload step (lowercase, no full stop). */
export const reloadOutcome = (
  runtime: string,
  propagated: boolean,
  epoch: string | null,
  others: string
): string =>
  propagated
    ? `reloaded; every instance follows within 5 s through the shared store${epoch ? ` (reload epoch ${epoch})` : ''}`
    : `reloaded this instance only (no shared store: ${sharedStore(runtime)} to reach the others); ${others}`

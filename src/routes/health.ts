import type { Hono } from 'hono'
import type { EnvRecord } from '../env.ts'
import { honoApp } from '../hono-app.ts'
import { runtimeName } from '../runtime.ts'
import type { SharedStore } from '../store/shared-store.ts'

/** The key `/readyz` reads to see that the shared store answers (it is never written). */
export const READINESS_KEY = 'keyline:readyz'

/**
 * Whether the store answers a read, within its own deadline (every store the entries and
 * `KEYLINE_KV` give has one: `KEYLINE_STORE_TIMEOUT_MS`).
 */
const answers = (store: SharedStore): Promise<boolean> =>
  store.get(READINESS_KEY).then(
    (value) => value !== undefined,
    () => false
  )

/**
 * `GET /healthz`: liveness, 200 with the runtime's name; reads no secret, calls no upstream,
 * touches no store. `GET /readyz`: readiness for a load balancer, 200 while the shared store
 * (Redis, KV, a file) answers, 503 with `"status": "degraded"` while it fails or does not answer
 * in time; 200 with `store: null` when there is none (a memory store is not a shared one). Both
 * answer `runtime`; neither names a host or an error.
 */
export const healthRoutes = (
  runtime: string = runtimeName(),
  store: (bindings: EnvRecord) => SharedStore | undefined = () => undefined
): Hono => {
  const app = honoApp()
  app.get('/healthz', (c) => c.json({ status: 'ok', runtime }))
  app.get('/readyz', async (c) => {
    // A memory store is one process's own, not a shared store: nothing to be ready for.
    const given = store((c.env ?? {}) as EnvRecord)
    const shared = given?.kind === 'memory' ? undefined : given
    const ok = !shared || (await answers(shared))
    const state = ok ? 'ok' : 'unavailable'
    const body = {
      status: ok ? 'ready' : 'degraded',
      runtime,
      store: shared ? { kind: shared.kind, state } : null,
    }
    return c.json(body, ok ? 200 : 503, { 'cache-control': 'no-store' })
  })
  return app
}

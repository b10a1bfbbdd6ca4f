import type { Hono } from 'hono'
import { within } from '../bounded-wait.ts'
import type { EnvRecord } from '../env.ts'
import { honoApp } from '../hono-app.ts'
import { runtimeName } from '../runtime.ts'
import type { SharedStore } from '../store/shared-store.ts'

/** The key `/readyz` reads to see that the shared store answers (it is never written). */
export const READINESS_KEY = 'keyline:readyz'

/** How long `/readyz` waits for the store, whatever deadline the store has itself. */
const PROBE_MS = 1_000

/** One probe per store at a time, however many load balancers ask. */
const probes = new WeakMap<SharedStore, Promise<boolean>>()

const answers = (store: SharedStore): Promise<boolean> => {
  let probe = probes.get(store)
  if (!probe) {
    probe = within(store.get(READINESS_KEY), PROBE_MS)
      .then(
        (value) => value !== undefined,
        () => false
      )
      .finally(() => probes.delete(store))
    probes.set(store, probe)
  }
  return probe
}

/**
 * `GET /healthz`: liveness, 200 with the runtime's name; reads no secret, calls no upstream,
 * touches no store. `GET /readyz`: readiness for a load balancer, 200 while the shared store
 * (Redis, KV, a file) answers, 503 with `"status": "degraded"` while it fails or does not answer
 * in time; 200 with `store: null` when there is none. Neither names a host or an error.
 */
export const healthRoutes = (
  runtime: string = runtimeName(),
  store: (bindings: EnvRecord) => SharedStore | undefined = () => undefined
): Hono => {
  const app = honoApp()
  app.get('/healthz', (c) => c.json({ status: 'ok', runtime }))
  app.get('/readyz', async (c) => {
    const shared = store((c.env ?? {}) as EnvRecord)
    const headers = { 'cache-control': 'no-store' }
    if (!shared) return c.json({ status: 'ready', runtime, store: null }, 200, headers)
    const ok = await answers(shared)
    return c.json(
      {
        status: ok ? 'ready' : 'degraded',
        runtime,
        store: { kind: shared.kind, state: ok ? 'ok' : 'unavailable' },
      },
      ok ? 200 : 503,
      headers
    )
  })
  return app
}

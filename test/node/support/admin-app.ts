/**
 * keyline with the admin API composed around `createApp`, as the app will mount it: the reload
 * epoch check first, then `/admin`, then everything `createApp` serves. Used by the Node and
 * workerd deployments of the admin end-to-end tests until `createApp` mounts the admin API.
 */
import { Hono } from 'hono'
import { adminRoutes } from '../../../src/admin/admin-routes.ts'
import { createApp } from '../../../src/app.ts'
import { errorResponse, onError } from '../../../src/errors/on-error.ts'
import { HealthTracker } from '../../../src/health/provider-health.ts'
import { NextSecretValidator } from '../../../src/rotation/next-validator.ts'
import { reloadEpoch } from '../../../src/rotation/reload-epoch.ts'
import type { SecretRegistry } from '../../../src/secrets/registry.ts'

export const adminApp = (
  registry: SecretRegistry,
  runtime: string,
  epochIntervalMs?: number
): Hono => {
  const health = new HealthTracker()
  const validator = new NextSecretValidator()
  const app = new Hono()
  app.use(reloadEpoch({ registry, validator, intervalMs: epochIntervalMs }))
  app.route('/admin', adminRoutes({ registry, health, validator, runtime }))
  app.route('/', createApp({ registry, health, runtime }))
  app.notFound((c) =>
    errorResponse(c, 404, { error: { type: 'not_found', message: 'No such route' } })
  )
  app.onError(onError)
  return app
}

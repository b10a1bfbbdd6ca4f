/** A Workers deployment of keyline with the admin API, the epoch checked every second. */
import { SecretRegistry } from '../../../src/secrets/registry.ts'
import { adminApp } from './admin-app.ts'

const app = adminApp(new SecretRegistry(), 'workerd', 1000)

export default { fetch: app.fetch }

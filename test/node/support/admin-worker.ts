/** The Workers app as `src/entries/worker.ts` builds it, with the KV epoch checked every second. */
import { createApp } from '../../../src/app.ts'

const app = createApp({ runtime: 'workerd', reloadCheckMs: 1000 })

export default { fetch: app.fetch }

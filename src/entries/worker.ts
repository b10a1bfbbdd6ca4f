import { createApp } from '../app.ts'
import { SecretRegistry } from '../secrets/registry.ts'

/** The parts of the Workers runtime types this entry uses. */
interface ExecutionContext {
  waitUntil(promise: Promise<unknown>): void
  passThroughOnException(): void
}
interface ScheduledController {
  readonly scheduledTime: number
  readonly cron: string
}

const registry = new SecretRegistry()
const app = createApp({ registry, runtime: 'workerd' })

/**
 * The Cloudflare Workers entry: `fetch` serves the app; `scheduled` (the cron trigger in
 * wrangler.toml) re-reads every provider's configuration and logs what is configured.
 */
export default {
  fetch: app.fetch,
  async scheduled(
    controller: ScheduledController,
    env: Record<string, unknown>,
    _ctx: ExecutionContext
  ): Promise<void> {
    const snapshot = await registry.resolve(env)
    console.log(
      JSON.stringify({
        level: 'info',
        msg: 'scheduled configuration check',
        cron: controller.cron,
        providers: Object.fromEntries(
          Object.values(snapshot).map((p) => [p.provider, { configured: p.configured }])
        ),
      })
    )
  },
}

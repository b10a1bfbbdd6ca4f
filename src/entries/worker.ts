import { createApp } from '../app.ts'
import { createLogger } from '../log/logger.ts'
import { SecretRegistry } from '../secrets/registry.ts'
import { flushTelemetry } from '../telemetry/export/web-exporter.ts'
import { staticConsoleAssets } from './worker-assets.ts'

/** The parts of the Workers runtime types this entry uses. */
interface ExecutionContext {
  waitUntil(promise: Promise<unknown>): void
  passThroughOnException(): void
}
interface ScheduledController {
  readonly scheduledTime: number
  readonly cron: string
}

/** The Durable Object of one client's quota counters (the `KEYLINE_LIMITS` binding). */
export { ClientLimitsObject as ClientLimits } from '../quota/durable-engine.ts'

const registry = new SecretRegistry()
// The console's files come from the static assets (wrangler.toml `[assets]`), not the bundle.
const app = createApp({
  registry,
  runtime: 'workerd',
  admin: { consoleAssets: staticConsoleAssets() },
})

/**
 * The Cloudflare Workers entry: `fetch` serves the app; `scheduled` (the cron triggers in
 * wrangler.toml) refreshes the Fyers access token when it is due, re-reads every provider's
 * configuration, logs what is configured, and flushes the isolate's metrics.
 */
export default {
  fetch: app.fetch,
  async scheduled(
    controller: ScheduledController,
    env: Record<string, unknown>,
    ctx: ExecutionContext
  ): Promise<void> {
    // After 06:00 IST the day's Fyers access token has expired: refresh it before the market opens.
    ctx.waitUntil(app.fyersTokens.refreshIfDue(env, 'cron').then(() => flushTelemetry(env)))
    const snapshot = await registry.resolve(env)
    const level = typeof env.LOG_LEVEL === 'string' ? env.LOG_LEVEL : undefined
    const providers = Object.values(snapshot)
    const summary = providers
      .map((p) => `${p.provider} ${p.configured ? 'configured' : 'not configured'}`)
      .join(', ')
    createLogger({ level }).info(`scheduled configuration check: ${summary}`, {
      cron: controller.cron,
      issues: providers.flatMap((p) => p.issues.map((i) => `${i.variable}: ${i.reason}`)),
    })
  },
}

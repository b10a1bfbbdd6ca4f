import { metrics } from '@opentelemetry/api'
import { WebMeterProvider as WebMeters } from './web-meter.ts'

/** The isolate-wide (or process-wide) meter provider of the Web-API exporters. */
export interface WebMeterProvider {
  /** The provider, collected on demand (`provider.collect(resource)`). */
  readonly provider: WebMeters
  /**
   * This isolate's `service.instance.id`, made with `crypto.randomUUID()` at first call: Workers
   * refuse random values at global scope, so call it while handling a request.
   */
  instanceId(): string
  /** Whether `provider` is the global `@opentelemetry/api` meter provider right now. */
  isGlobal(): boolean
}

let current: WebMeterProvider | undefined

const create = (): WebMeterProvider => {
  // No resource here: the exporter sets it per export, from configuration read at first use.
  const provider = new WebMeters()
  let id: string | undefined
  return {
    provider,
    instanceId: () => {
      id ??= crypto.randomUUID()
      return id
    },
    isGlobal: () => metrics.getMeterProvider() === provider,
  }
}

/**
 * Creates (once) the meter provider that the Workers and Deno exporters collect from (keyline's
 * own small one, `web-meter.ts`, cumulative, collected on demand), and makes it the global
 * `@opentelemetry/api` meter provider unless another one is installed (for example Node's, or
 * Deno's built-in OpenTelemetry). Safe at global scope: no timers, no random values, no I/O.
 * Call it before anything records (`metrics.getMeter()` returns a no-op meter until a provider
 * is installed, and the API does not swap meters already handed out).
 *
 * If the global provider was removed (`metrics.disable()`, as tests do), it is installed again.
 */
export const ensureWebMeterProvider = (): WebMeterProvider => {
  current ??= create()
  if (!current.isGlobal()) metrics.setGlobalMeterProvider(current.provider)
  return current
}

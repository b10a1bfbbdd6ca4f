/**
 * The Worker's `@opentelemetry/api` (wrangler.toml `[alias]`): the part of its metrics API that
 * keyline's Worker calls, one global meter provider, and none of the rest. The Worker bundle is
 * keyline alone, so nothing else in the isolate shares the API's global registry, its version
 * checks or its `diag` logger (≈ 1.7 KiB of the Worker's gzip); keyline's own meter provider
 * (`telemetry/export/web-meter.ts`) is installed in it as everywhere else. Node, Deno and the
 * package use the real API.
 */
import type { Meter, MeterProvider } from '@opentelemetry/api'

const ignore = (): void => {}
const instrument = { add: ignore, record: ignore, addCallback: ignore, removeCallback: ignore }
const create = () => instrument
/** Until a provider is installed, measurements go nowhere (as the real API's no-op meter). */
const NOOP_METER = {
  createCounter: create,
  createUpDownCounter: create,
  createHistogram: create,
  createGauge: create,
  createObservableCounter: create,
  createObservableUpDownCounter: create,
  createObservableGauge: create,
  addBatchObservableCallback: ignore,
  removeBatchObservableCallback: ignore,
} as unknown as Meter
const NOOP_PROVIDER: MeterProvider = { getMeter: () => NOOP_METER }

let global: MeterProvider | undefined

/** `@opentelemetry/api`'s `metrics`: the global meter provider, set once until disabled. */
export const metrics = {
  setGlobalMeterProvider(provider: MeterProvider): boolean {
    if (global) return false
    global = provider
    return true
  },
  getMeterProvider: (): MeterProvider => global ?? NOOP_PROVIDER,
  getMeter: (name: string, version?: string): Meter =>
    (global ?? NOOP_PROVIDER).getMeter(name, version),
  disable(): void {
    global = undefined
  },
}

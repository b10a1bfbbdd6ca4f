import { metrics as otel } from '@opentelemetry/api'
import { afterEach, describe, expect, it } from 'vitest'
import { metrics as worker } from '../../src/entries/worker-otel-api.ts'
import { WebMeterProvider } from '../../src/telemetry/export/web-meter.ts'

/**
 * The Worker's stand-in for `@opentelemetry/api` (wrangler.toml `[alias]`) behaves as the real
 * metrics API does for what keyline calls: a no-op provider until one is installed, the first
 * installed provider kept (a second is refused), `disable()` removing it.
 */
describe('the Worker’s @opentelemetry/api metrics', () => {
  afterEach(() => {
    otel.disable()
    worker.disable()
  })

  it('answers every call as the real API does', () => {
    for (const api of [otel, worker]) {
      const noop = api.getMeterProvider()
      const meter = api.getMeter('keyline')
      // No provider yet: instruments accept measurements and keep nothing.
      meter.createCounter('c').add(1)
      meter.createHistogram('h').record(1)
      meter.createObservableGauge('g').addCallback(() => {})
      const first = new WebMeterProvider()
      const second = new WebMeterProvider()
      expect(api.setGlobalMeterProvider(first)).toBe(true)
      expect(api.getMeterProvider()).toBe(first)
      expect(api.setGlobalMeterProvider(second)).toBe(false)
      expect(api.getMeterProvider()).toBe(first)
      api.disable()
      expect(api.getMeterProvider()).toBe(noop)
      expect(api.setGlobalMeterProvider(second)).toBe(true)
      expect(api.getMeterProvider()).toBe(second)
    }
  })

  it('hands out the installed provider’s meters, which record', async () => {
    const provider = new WebMeterProvider()
    worker.setGlobalMeterProvider(provider)
    worker.getMeter('keyline').createCounter('keyline.test.requests').add(2, { a: 'b' })
    const collected = JSON.stringify(await provider.collect({ 'service.name': 'keyline' }))
    expect(collected).toContain('keyline.test.requests')
  })
})

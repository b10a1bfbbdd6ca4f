import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { metrics } from '@opentelemetry/api'
import { PrometheusExporter } from '@opentelemetry/exporter-prometheus'
import { MeterProvider } from '@opentelemetry/sdk-metrics'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { METRIC_KEYS, METRICS } from '../../../src/telemetry/definitions.ts'
import { resetTelemetryState } from '../../../src/telemetry/instruments.ts'
import {
  PROM,
  prometheusLabelName,
  prometheusMetricName,
  prometheusSeriesNames,
} from '../../../src/telemetry/prometheus-names.ts'
import {
  recordAiCall,
  recordClientLimitsUnavailable,
  recordClientRequest,
  recordClientTokens,
  recordFailover,
  recordFyersQuote,
  recordReload,
  recordTokenRefresh,
  setRefreshTokenRemaining,
} from '../../../src/telemetry/record.ts'

/** Records every keyline metric, then scrapes a real exporter over HTTP. */
const scrape = async (prefix?: string): Promise<string> => {
  metrics.disable()
  resetTelemetryState()
  const exporter = new PrometheusExporter({
    preventServerStart: true,
    ...(prefix ? { prefix } : {}),
  })
  const provider = new MeterProvider({ readers: [exporter] })
  metrics.setGlobalMeterProvider(provider)
  recordAiCall({
    operation: 'chat',
    model: 'claude-opus-4-5',
    durationS: 2,
    outcome: { errorType: 'overloaded_error' },
    usage: { input: 10, output: 5 },
  })
  recordFyersQuote({
    durationS: 0.05,
    httpStatus: 401,
    outcome: { errorType: 'authentication_error', fyersCode: -15 },
  })
  recordFailover('anthropic')
  recordReload('success')
  recordTokenRefresh('failure')
  recordClientRequest('ci', 'rpm')
  recordClientTokens('ci', 42)
  recordClientLimitsUnavailable()
  setRefreshTokenRemaining(3600)
  const server: Server = createServer((req, res) => exporter.getMetricsRequestHandler(req, res))
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  try {
    const { port } = server.address() as AddressInfo
    const response = await fetch(`http://127.0.0.1:${port}/metrics`)
    return await response.text()
  } finally {
    server.close()
    await provider.shutdown()
    metrics.disable()
  }
}

const types = (text: string): Map<string, string> =>
  new Map([...text.matchAll(/^# TYPE (\S+) (\S+)$/gm)].map((m) => [m[1] as string, m[2] as string]))

describe('Prometheus names (real @opentelemetry/exporter-prometheus scrape)', () => {
  let text: string
  beforeAll(async () => {
    text = await scrape()
  })
  afterAll(() => {
    resetTelemetryState()
  })

  it('exports every metric under the derived family name and type', () => {
    const exported = types(text)
    exported.delete('target_info')
    const expected = new Map(
      METRIC_KEYS.map((key) => {
        const kind = METRICS[key].kind
        return [PROM[key], kind] as const
      })
    )
    expect(Object.fromEntries(exported)).toEqual(Object.fromEntries(expected))
  })

  it('writes the derived series names, with no unit suffix', () => {
    const series = new Set([...text.matchAll(/^([a-zA-Z_:][a-zA-Z0-9_:]*)[{ ]/gm)].map((m) => m[1]))
    for (const key of METRIC_KEYS) {
      for (const name of prometheusSeriesNames(METRICS[key])) expect(series).toContain(name)
    }
    expect(text).not.toMatch(/_seconds/)
  })

  it('turns attribute keys into the derived label names', () => {
    // Every call recorded above failed, so every attribute of every metric is present.
    for (const key of METRIC_KEYS) {
      const lines = text.split('\n').filter((l) => l.startsWith(`${PROM[key]}`) && l.includes('{'))
      const labels = new Set(lines.flatMap((l) => [...l.matchAll(/(\w+)="/g)].map((m) => m[1])))
      for (const attribute of METRICS[key].attributes) {
        expect(labels, `${key} ${attribute}`).toContain(prometheusLabelName(attribute))
      }
    }
  })

  it('follows the exporter prefix option the same way', async () => {
    const prefixed = types(await scrape('kl'))
    for (const key of METRIC_KEYS) {
      expect(prefixed.has(prometheusMetricName(METRICS[key], { prefix: 'kl' }))).toBe(true)
    }
  })
})

import { describe, expect, it } from 'vitest'
import { parseKeyValueList, readOtelConfig } from '../../src/telemetry/export/config.ts'

describe('readOtelConfig', () => {
  it('exports nothing unless told where to', () => {
    const config = readOtelConfig({})
    expect([...config.exporters]).toEqual([])
    expect(config.serviceName).toBe('keyline')
    expect(config.otlp).toBeUndefined()
  })

  it('enables OTLP when an endpoint is set, appending /v1/metrics to the base endpoint', () => {
    const config = readOtelConfig({ OTEL_EXPORTER_OTLP_ENDPOINT: 'https://otel.example:4318/' })
    expect([...config.exporters]).toEqual(['otlp'])
    expect(config.otlp?.url).toBe('https://otel.example:4318/v1/metrics')
  })

  it('uses the metrics endpoint as is, over the base endpoint', () => {
    const config = readOtelConfig({
      OTEL_EXPORTER_OTLP_ENDPOINT: 'https://base.example',
      OTEL_EXPORTER_OTLP_METRICS_ENDPOINT: 'https://metrics.example/custom',
    })
    expect(config.otlp?.url).toBe('https://metrics.example/custom')
  })

  it('reads the exporter list; none wins; unknown names are reported', () => {
    expect([...readOtelConfig({ OTEL_METRICS_EXPORTER: ' OTLP , prometheus' }).exporters]).toEqual([
      'otlp',
      'prometheus',
    ])
    expect(readOtelConfig({ OTEL_METRICS_EXPORTER: 'otlp' }).otlp?.url).toBe(
      'http://localhost:4318/v1/metrics'
    )
    expect([...readOtelConfig({ OTEL_METRICS_EXPORTER: 'otlp,none' }).exporters]).toEqual([])
    expect(readOtelConfig({ OTEL_METRICS_EXPORTER: 'console,otlp' }).unknownExporters).toEqual([
      'console',
    ])
    const disabled = readOtelConfig({
      OTEL_SDK_DISABLED: 'true',
      OTEL_EXPORTER_OTLP_ENDPOINT: 'http://x',
    })
    expect([...disabled.exporters]).toEqual([])
  })

  it('defaults Prometheus to loopback:9464', () => {
    expect(readOtelConfig({ OTEL_METRICS_EXPORTER: 'prometheus' }).prometheus).toEqual({
      host: '127.0.0.1',
      port: 9464,
    })
    expect(
      readOtelConfig({
        OTEL_METRICS_EXPORTER: 'prometheus',
        OTEL_EXPORTER_PROMETHEUS_HOST: '0.0.0.0',
        OTEL_EXPORTER_PROMETHEUS_PORT: '9100',
      }).prometheus
    ).toEqual({ host: '0.0.0.0', port: 9100 })
  })

  it('takes the service name from OTEL_SERVICE_NAME over OTEL_RESOURCE_ATTRIBUTES', () => {
    const attrs = 'service.name=from-attrs,team=a%2Cb'
    expect(readOtelConfig({ OTEL_RESOURCE_ATTRIBUTES: attrs }).serviceName).toBe('from-attrs')
    const config = readOtelConfig({ OTEL_RESOURCE_ATTRIBUTES: attrs, OTEL_SERVICE_NAME: 'svc' })
    expect(config.serviceName).toBe('svc')
    expect(config.resourceAttributes).toEqual({ team: 'a,b' })
  })

  it('merges headers, the metrics-specific ones winning', () => {
    const config = readOtelConfig({
      OTEL_EXPORTER_OTLP_ENDPOINT: 'http://x',
      OTEL_EXPORTER_OTLP_HEADERS: 'a=1,b=2',
      OTEL_EXPORTER_OTLP_METRICS_HEADERS: 'b=3',
      OTEL_EXPORTER_OTLP_TIMEOUT: '1500',
      OTEL_METRIC_EXPORT_INTERVAL: '2000',
    })
    expect(config.otlp).toEqual({
      url: 'http://x/v1/metrics',
      headers: { a: '1', b: '3' },
      timeoutMs: 1500,
    })
    expect(config.exportIntervalMs).toBe(2000)
  })
})

describe('parseKeyValueList', () => {
  it('URL-decodes, trims, keeps = in values and skips malformed entries', () => {
    expect(
      parseKeyValueList(' Authorization = Basic%20dTpw ,token=a=b, novalue, =x,bad%ZZ=ok')
    ).toEqual({ Authorization: 'Basic dTpw', token: 'a=b', 'bad%ZZ': 'ok' })
  })
})

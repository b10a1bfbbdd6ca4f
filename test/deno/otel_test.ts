/// <reference lib="deno.ns" />
import assert from 'node:assert/strict'
import { metrics } from '@opentelemetry/api'
import { startDenoTelemetry } from '../../src/telemetry/export/deno.ts'
import { decodeExportRequest, pointsOf, type ReceivedExport } from '../support/otlp-decode.ts'

/** An OTLP/HTTP JSON receiver on 127.0.0.1, port 0, inside the Deno test itself. */
const startReceiver = () => {
  const received: ReceivedExport[] = []
  const server = Deno.serve(
    { hostname: '127.0.0.1', port: 0, onListen: () => {} },
    async (req): Promise<Response> => {
      const url = new URL(req.url)
      if (req.method !== 'POST' || url.pathname !== '/v1/metrics') {
        return new Response('not found', { status: 404 })
      }
      if (!req.headers.get('content-type')?.startsWith('application/json')) {
        return new Response('unsupported', { status: 415 })
      }
      const headers = Object.fromEntries(req.headers)
      received.push(...decodeExportRequest(await req.json(), headers))
      return Response.json({})
    }
  )
  return {
    url: `http://127.0.0.1:${server.addr.port}`,
    received,
    close: () => server.shutdown(),
  }
}

Deno.test('startDenoTelemetry exports OTLP/HTTP JSON with the resource and headers', async () => {
  const receiver = startReceiver()
  const service = `keyline-deno-${crypto.randomUUID()}`
  const telemetry = startDenoTelemetry({
    OTEL_SERVICE_NAME: service,
    OTEL_RESOURCE_ATTRIBUTES: 'deployment.environment.name=test,team=edge%20ops',
    OTEL_EXPORTER_OTLP_ENDPOINT: receiver.url,
    OTEL_EXPORTER_OTLP_HEADERS: 'x-api-key=s3cr%3Dt',
    OTEL_METRIC_EXPORT_INTERVAL: '50',
  })
  try {
    assert.equal(telemetry.mode, 'web')
    metrics.getMeter('keyline').createCounter('keyline.test.deno_requests').add(4, { route: '/' })

    // The interval export arrives on its own.
    const deadline = Date.now() + 5_000
    while (pointsOf(receiver.received, 'keyline.test.deno_requests').length === 0) {
      assert.ok(Date.now() < deadline, 'no export within 5 s')
      await new Promise((resolve) => setTimeout(resolve, 25))
    }
    const [point] = pointsOf(receiver.received, 'keyline.test.deno_requests')
    assert.equal(point?.value, 4)
    assert.deepEqual(point?.attributes, { route: '/' })
    assert.equal(point?.resource['service.name'], service)
    assert.equal(point?.resource['deployment.environment.name'], 'test')
    assert.equal(point?.resource.team, 'edge ops')
    assert.equal(point?.resource['process.runtime.name'], 'deno')
    assert.match(String(point?.resource['service.instance.id']), /^[0-9a-f-]{36}$/)
    assert.equal(receiver.received[0]?.headers['x-api-key'], 's3cr=t')
  } finally {
    await telemetry.shutdown()
    await receiver.close()
  }
})

Deno.test('shutdown makes a final export with the cumulative total', async () => {
  const receiver = startReceiver()
  const service = `keyline-deno-${crypto.randomUUID()}`
  const telemetry = startDenoTelemetry({
    OTEL_SERVICE_NAME: service,
    OTEL_EXPORTER_OTLP_METRICS_ENDPOINT: `${receiver.url}/v1/metrics`,
    OTEL_METRIC_EXPORT_INTERVAL: '60000',
  })
  try {
    const counter = metrics.getMeter('keyline').createCounter('keyline.test.deno_shutdown')
    counter.add(2)
    counter.add(5)
    assert.equal(receiver.received.length, 0)
    await telemetry.shutdown()
    assert.equal(pointsOf(receiver.received, 'keyline.test.deno_shutdown')[0]?.value, 7)
  } finally {
    await receiver.close()
  }
})

Deno.test('an unreachable collector makes flush resolve as failed, quickly', async () => {
  const closed = Deno.listen({ hostname: '127.0.0.1', port: 0 })
  const { port } = closed.addr as Deno.NetAddr
  closed.close()
  const telemetry = startDenoTelemetry(
    {
      OTEL_EXPORTER_OTLP_ENDPOINT: `http://127.0.0.1:${port}`,
      OTEL_METRIC_EXPORT_INTERVAL: '60000',
    },
    { timeoutMs: 1_000 }
  )
  const warn = console.warn
  console.warn = () => {}
  try {
    const result = await telemetry.flush()
    assert.equal(result.status, 'failed')
  } finally {
    console.warn = warn
    await telemetry.shutdown()
  }
})

Deno.test('OTEL_DENO=true leaves export to Deno built-in OpenTelemetry', async () => {
  const telemetry = startDenoTelemetry({
    OTEL_DENO: 'true',
    OTEL_EXPORTER_OTLP_ENDPOINT: 'http://x',
  })
  assert.equal(telemetry.mode, 'deno-builtin')
  await telemetry.shutdown()
  assert.equal(startDenoTelemetry({}).mode, 'off')
})

import { describe, expect, it } from 'vitest'
import { callAnthropic } from '../../src/providers/anthropic/call.ts'
import { type CallDeps, callPolicies } from '../../src/providers/call.ts'
import { createRedactor } from '../../src/redact/redactor.ts'
import { SecretRegistry } from '../../src/secrets/registry.ts'
import type { CallReport } from '../../src/telemetry/call-reporter.ts'

/**
 * A client that goes away while the upstream's body is still coming is not an upstream
 * failure: nothing is reported as one (the health and the failure metrics stay clean), whether
 * the answer is read whole or streamed.
 */
const KEY = `sk-ant-test-${crypto.randomUUID()}`

/** A fetch whose 200 body sends `first`, then stays open until the request's signal aborts. */
const openBody =
  (contentType: string, first: string): typeof fetch =>
  async (_input, init) =>
    new Response(
      new ReadableStream<Uint8Array>({
        start(controller) {
          controller.enqueue(new TextEncoder().encode(first))
          init?.signal?.addEventListener('abort', () => controller.error(init.signal?.reason))
        },
      }),
      { status: 200, headers: { 'content-type': contentType } }
    )

const setup = async (fetch: typeof globalThis.fetch) => {
  const reports: CallReport[] = []
  const registry = new SecretRegistry({ readFile: null })
  const deps: CallDeps = {
    registry,
    reporter: { call: (r) => reports.push(r), failover: () => {} },
    policies: callPolicies({ maxRetries: 0 }),
    fetch,
  }
  const env = { ANTHROPIC_API_KEY: KEY }
  const snapshot = await registry.resolveProvider(env, 'anthropic')
  const client = new AbortController()
  const redactor = createRedactor().withSecrets([KEY])
  const scope = { env, redactor: () => redactor, signal: client.signal }
  const request = { path: '/v1/messages', method: 'POST', body: '{}', headers: new Headers() }
  return { reports, deps, snapshot, client, scope, request }
}

describe('a client that goes away mid-body', () => {
  it('a whole answer: the call ends with the abort, reporting nothing', async () => {
    const s = await setup(openBody('application/json', '{"type":"mess'))
    const pending = callAnthropic(s.deps, s.scope, s.snapshot, s.request)
    setTimeout(() => s.client.abort(new Error('client gone')), 20)
    await expect(pending).rejects.toThrow('client gone')
    expect(s.reports).toEqual([])
  })

  it('a streamed answer: the stream ends, and no failure is reported', async () => {
    const s = await setup(openBody('text/event-stream', 'event: ping\ndata: {}\n\n'))
    const answer = await callAnthropic(s.deps, s.scope, s.snapshot, s.request)
    const reader = (answer.body as ReadableStream<Uint8Array>).getReader()
    expect((await reader.read()).done).toBe(false)
    s.client.abort(new Error('client gone'))
    await reader.read().catch(() => undefined)
    await new Promise((resolve) => setTimeout(resolve, 10))
    expect(s.reports.filter((r) => !r.end.ok)).toEqual([])
  })
})

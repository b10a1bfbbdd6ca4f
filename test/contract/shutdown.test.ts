import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { startAnthropicStub } from '../stubs/anthropic.ts'
import { stubControl } from '../stubs/control.ts'
import { generateStubKeys, stubBindings, stubOptionsFor } from '../stubs/fixtures.ts'
import { startFyersStub } from '../stubs/fyers.ts'
import type { StartedStub } from '../stubs/stub-server.ts'
import { type RunningServer, startServer } from './harness/server.ts'

/**
 * On SIGTERM the Node and Deno servers stop accepting connections, let the requests in flight
 * finish, and exit 0. (On Workers the platform drains isolates itself.)
 */
const CLIENT_TOKEN = `client-token-${crypto.randomUUID()}`
const keys = generateStubKeys()
let anthropic: StartedStub
let fyers: StartedStub

beforeAll(async () => {
  const options = stubOptionsFor(keys)
  ;[anthropic, fyers] = await Promise.all([
    startAnthropicStub(options.anthropic),
    startFyersStub(options.fyers),
  ])
})
afterAll(async () => {
  await Promise.all([anthropic?.close(), fyers?.close()])
})

const alive = (pid: number): boolean => {
  try {
    process.kill(pid, 0)
    return true
  } catch {
    return false
  }
}

describe.each(['node', 'deno'] as const)('graceful shutdown [%s]', (runtime) => {
  let server: RunningServer

  afterAll(async () => {
    await server?.stop()
  })

  it('drains the request in flight, refuses new ones, and exits', async () => {
    const session = await stubControl(anthropic.url).session()
    server = await startServer(runtime, {
      bindings: stubBindings(keys, { anthropic: session.url, fyers: fyers.url }, CLIENT_TOKEN),
    })
    await session.fault({ kind: 'latency', ms: 1500 })
    const inFlight = fetch(`${server.url}/v1/models`, {
      headers: { authorization: `Bearer ${CLIENT_TOKEN}` },
    })
    while ((await session.requests()).length === 0) await new Promise((r) => setTimeout(r, 20))

    process.kill(-server.pid, 'SIGTERM')
    await new Promise((resolve) => setTimeout(resolve, 300))
    await expect(fetch(`${server.url}/healthz`)).rejects.toThrow()

    const res = await inFlight
    expect(res.status).toBe(200)
    expect(((await res.json()) as { data: unknown[] }).data.length).toBeGreaterThan(0)

    const deadline = Date.now() + 10_000
    while (alive(server.pid) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50))
    expect(alive(server.pid)).toBe(false)
    expect(server.output()).toContain('"msg":"draining"')
  })
})

/// <reference lib="deno.ns" />
import assert from 'node:assert/strict'
import { Hono } from 'hono'
import { env as adapterEnv, getRuntimeKey } from 'hono/adapter'
import { runtimeEnv, runtimeName } from '../../src/runtime.ts'

// keyline reads the runtime itself (hono/adapter's module would add to the Worker): on Deno it
// must give the answers hono/adapter gives (test/unit/runtime.test.ts: Node and workerd).
Deno.test('runtime: named deno, as hono/adapter names it', () => {
  assert.equal(runtimeName(), 'deno')
  assert.equal(runtimeName(), getRuntimeKey())
})

Deno.test("runtime: a request's environment is Deno.env, as hono/adapter reads it", async () => {
  Deno.env.set('KEYLINE_RUNTIME_TEST', 'deno-env')
  try {
    const app = new Hono()
    app.get('/', (c) => c.json({ ours: runtimeEnv(c.env), theirs: adapterEnv(c) }))
    const res = await app.request('/', undefined, { KEYLINE_RUNTIME_TEST: 'binding' })
    const { ours, theirs } = (await res.json()) as Record<string, Record<string, string>>
    assert.deepEqual(ours, theirs)
    assert.equal(ours?.KEYLINE_RUNTIME_TEST, 'deno-env')
  } finally {
    Deno.env.delete('KEYLINE_RUNTIME_TEST')
  }
})

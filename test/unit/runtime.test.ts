import { Hono } from 'hono'
import { env as adapterEnv, getRuntimeKey } from 'hono/adapter'
import { describe, expect, it } from 'vitest'
import { runtimeEnv, runtimeName } from '../../src/runtime.ts'

// keyline reads the runtime itself (hono/adapter's module would add to the Worker): it must give
// the answers hono/adapter gives, on each runtime this suite runs on (Node and workerd).
describe('runtime', () => {
  it('is named as hono/adapter names it', () => {
    expect(runtimeName()).toBe(getRuntimeKey())
    expect(['node', 'workerd']).toContain(runtimeName())
  })

  it("reads a request's environment where hono/adapter reads it", async () => {
    const app = new Hono()
    app.get('/', (c) => {
      const ours = runtimeEnv(c.env)
      const theirs = adapterEnv(c)
      return c.json({ same: ours === theirs || JSON.stringify(ours) === JSON.stringify(theirs) })
    })
    const bindings = { KEYLINE_RUNTIME_TEST: 'yes' }
    const res = await app.request('/', undefined, bindings)
    expect(await res.json()).toEqual({ same: true })
    // On workerd the request's bindings are the environment; elsewhere the process's.
    const env = runtimeEnv(bindings)
    if (runtimeName() === 'workerd') expect(env).toBe(bindings)
    else expect(env).toBe(process.env)
  })
})

import { expect, it } from 'vitest'
import { describeRuntimes } from './harness/describe-runtimes.ts'

/** Routes that read no secret: the same answers on every runtime, with no bindings at all. */
describeRuntimes('basics', (ctx) => {
  it('GET /healthz answers 200 with the runtime name', async () => {
    const response = await ctx.fetch('/healthz')
    expect(response.status).toBe(200)
    expect(response.headers.get('content-type')).toMatch(/^application\/json/)
    expect(await response.json()).toEqual({ status: 'ok', runtime: ctx.runtime })
  })

  it('an unknown route answers 404 not_found with a request id in body and header', async () => {
    const response = await ctx.fetch('/no/such/route')
    expect(response.status).toBe(404)
    expect(response.headers.get('content-type')).toMatch(/^application\/json/)
    const body = (await response.json()) as {
      error: { type: string; message: string }
      request_id: string
    }
    expect(body).toEqual({
      error: { type: 'not_found', message: expect.any(String) },
      request_id: expect.stringMatching(/^[\w\-=]+$/),
    })
    expect(response.headers.get('x-request-id')).toBe(body.request_id)
  })

  it('with no ADMIN_TOKEN, /admin answers a JSON 404 that says how to turn it on', async () => {
    for (const path of ['/admin', '/admin/keys/status']) {
      const res = await ctx.fetch(path)
      expect(res.status).toBe(404)
      expect(res.headers.get('content-type')).toMatch(/^application\/json/)
      const body = (await res.json()) as { error: { type: string; message: string } }
      expect(body.error.type).toBe('not_found')
      expect(body.error.message).toContain('set ADMIN_TOKEN')
    }
  })

  it('each request gets its own request id', async () => {
    const ids = await Promise.all(
      [1, 2].map(async () => {
        const response = await ctx.fetch('/missing')
        await response.body?.cancel()
        return response.headers.get('x-request-id')
      })
    )
    expect(ids[0]).toBeTruthy()
    expect(ids[0]).not.toBe(ids[1])
  })

  it('a valid incoming x-request-id is echoed in the header and the body', async () => {
    const id = `contract-${crypto.randomUUID()}`
    const response = await ctx.fetch('/missing', { headers: { 'x-request-id': id } })
    expect(response.status).toBe(404)
    expect(response.headers.get('x-request-id')).toBe(id)
    expect(((await response.json()) as { request_id: string }).request_id).toBe(id)
  })

  it('an invalid incoming x-request-id is replaced by a fresh one', async () => {
    for (const bad of ['has space', 'semi;colon', 'x'.repeat(256)]) {
      const response = await ctx.fetch('/missing', { headers: { 'x-request-id': bad } })
      const body = (await response.json()) as { request_id: string }
      expect(body.request_id).not.toBe(bad)
      expect(body.request_id).toMatch(/^[\w\-=]+$/)
      expect(response.headers.get('x-request-id')).toBe(body.request_id)
    }
  })

  it('GET /healthz also carries a request id', async () => {
    const response = await ctx.fetch('/healthz', { headers: { 'x-request-id': 'health-1' } })
    await response.body?.cancel()
    expect(response.headers.get('x-request-id')).toBe('health-1')
  })
})

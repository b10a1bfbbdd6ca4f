import { Hono } from 'hono'
import { describe, expect, it } from 'vitest'
import { KeylineError } from '../../src/errors/keyline-error.ts'
import { onError } from '../../src/middleware/on-error.ts'

describe("the library's onError", () => {
  it('answers with a request_id (and x-request-id) like the proxy, without a request id middleware', async () => {
    const app = new Hono()
    app.get('/known', () => {
      throw new KeylineError(409, 'conflict', 'Not now')
    })
    app.get('/unknown', () => {
      throw new Error('boom')
    })
    app.onError(onError)
    for (const path of ['/known', '/unknown']) {
      const res = await app.request(path)
      const body = (await res.json()) as { error: { type: string }; request_id?: string }
      expect(body.request_id).toMatch(/^[0-9a-f-]{36}$/)
      expect(res.headers.get('x-request-id')).toBe(body.request_id)
    }
  })
})

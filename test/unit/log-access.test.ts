import { Hono } from 'hono'
import { HTTPException } from 'hono/http-exception'
import { requestId } from 'hono/request-id'
import { describe, expect, it } from 'vitest'
import { accessLog, createLogger, type LogRecord } from '../../src/log/index.ts'
import { createRedactor } from '../../src/redact/index.ts'
import { randomSecret } from './redact-helpers.ts'

const setup = (secret: string) => {
  const lines: LogRecord[] = []
  const logger = createLogger({
    sink: (r) => lines.push(r),
    redactor: createRedactor({ secrets: [secret] }),
  })
  let t = 100
  const app = new Hono()
  app.use(requestId())
  app.use(accessLog({ logger, now: () => (t += 2.5) }))
  app.get('/items/:id', (c) => c.json({ id: c.req.param('id') }))
  app.get('/boom', () => {
    throw new Error(`upstream said ${secret}`)
  })
  app.get('/denied', () => {
    throw new HTTPException(403, { message: 'no' })
  })
  app.onError((err, c) => c.json({ error: 'x' }, err instanceof HTTPException ? err.status : 500))
  return { app, lines }
}

describe('accessLog', () => {
  const secret = `tst_${randomSecret(24)}`

  it('writes exactly one line with the route pattern, never the raw path', async () => {
    const { app, lines } = setup(secret)
    const res = await app.request(`/items/${secret}?api_key=${secret}`, {
      headers: { 'x-request-id': 'req-1' },
    })
    expect(res.status).toBe(200)
    expect(lines).toEqual([
      {
        level: 'info',
        time: expect.any(String),
        msg: 'request',
        request_id: 'req-1',
        method: 'GET',
        route: '/items/:id',
        status: 200,
        duration_ms: 2.5,
      },
    ])
    expect(JSON.stringify(lines)).not.toContain(secret.slice(-8))
  })

  it('logs a caught error by name only, redacted, as an error line with the final status', async () => {
    const { app, lines } = setup(secret)
    const res = await app.request('/boom')
    expect(res.status).toBe(500)
    expect(lines).toHaveLength(1)
    expect(lines[0]).toMatchObject({
      level: 'error',
      route: '/boom',
      status: 500,
      error: { name: 'Error' },
    })
    expect(JSON.stringify(lines)).not.toContain('upstream said')
    expect(typeof lines[0]?.request_id).toBe('string')
  })

  it('keeps the status of an HTTPException and logs it at info', async () => {
    const { app, lines } = setup(secret)
    expect((await app.request('/denied')).status).toBe(403)
    expect(lines[0]).toMatchObject({ level: 'info', status: 403, error: { name: 'Error' } })
  })

  it('logs unmatched requests with the middleware pattern', async () => {
    const { app, lines } = setup(secret)
    expect((await app.request(`/nope/${secret}`)).status).toBe(404)
    expect(lines).toHaveLength(1)
    expect(lines[0]).toMatchObject({ status: 404, route: '/*' })
    expect(JSON.stringify(lines)).not.toContain(secret.slice(-8))
  })

  it('logs the type of a keyline-style error', async () => {
    const lines: LogRecord[] = []
    const app = new Hono()
    app.use(accessLog({ logger: () => createLogger({ sink: (r) => lines.push(r) }) }))
    app.get('/typed', () => {
      throw Object.assign(new Error(secret), {
        name: 'ProviderNotConfiguredError',
        type: 'provider_not_configured',
      })
    })
    app.onError((_e, c) => c.text('x', 503))
    await app.request('/typed')
    expect(lines[0]).toMatchObject({
      status: 503,
      error: { name: 'ProviderNotConfiguredError', type: 'provider_not_configured' },
    })
    expect(JSON.stringify(lines)).not.toContain(secret)
  })
})

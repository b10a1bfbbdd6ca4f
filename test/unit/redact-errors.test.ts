import { Hono } from 'hono'
import { describe, expect, it } from 'vitest'
import { bindingsOnly } from '../../src/env.ts'
import { KeylineError } from '../../src/errors/keyline-error.ts'
import { redactErrors } from '../../src/middleware/on-error.ts'
import { redaction } from '../../src/middleware/redaction.ts'
import { secrets } from '../../src/middleware/secrets.ts'

const key = `sk-ant-test-${crypto.randomUUID()}`

/** An app composed from keyline's pieces, whose own onError would print the raw error. */
const composed = () => {
  const lines: unknown[] = []
  const app = new Hono()
  app.use(redaction({ env: bindingsOnly, sink: (line) => lines.push(line) }))
  app.use(redactErrors())
  app.use(secrets({ env: bindingsOnly }))
  app.get('/boom', () => {
    throw new Error(`upstream said: bad key ${key}`, { cause: { headers: { 'x-api-key': key } } })
  })
  app.get('/known', () => {
    throw new KeylineError(409, 'conflict', `key ${key} is in use`)
  })
  app.onError((err, c) => c.text(`${err.message} ${JSON.stringify(err.cause)}`, 500))
  return { app, lines }
}

describe('redactErrors() for apps that compose keyline themselves', () => {
  it('replaces a leaking error response with keyline redacted JSON', async () => {
    const { app, lines } = composed()
    const res = await app.request('/boom', {}, { ANTHROPIC_API_KEY: key })
    expect(res.status).toBe(500)
    const body = await res.text()
    expect(JSON.parse(body)).toMatchObject({ error: { type: 'api_error' } })
    expect(body).not.toContain(key.slice(-5))
    expect(JSON.stringify(lines)).not.toContain(key.slice(0, 20))
    expect(JSON.stringify(lines)).toContain('unhandled error')
  })

  it("keeps a known error's status and type, its message redacted", async () => {
    const { app } = composed()
    const res = await app.request('/known', {}, { ANTHROPIC_API_KEY: key })
    expect(res.status).toBe(409)
    const body = (await res.json()) as { error: { type: string; message: string } }
    expect(body.error.type).toBe('conflict')
    expect(body.error.message).toBe(`key …${key.slice(-4)} is in use`)
  })
})

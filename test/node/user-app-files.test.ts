import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { toFile } from '@anthropic-ai/sdk'
import { Hono } from 'hono'
import { afterAll, describe, expect, inject, it } from 'vitest'
import { onError, type SecretsVariables, secrets } from '../../src/index.ts'
import { stubControl } from '../stubs/control.ts'

const dir = mkdtempSync(join(tmpdir(), 'keyline-user-app-'))
afterAll(() => rmSync(dir, { recursive: true, force: true }))

describe("a user's own Node app with secrets()", () => {
  it('reads ANTHROPIC_API_KEY_FILE with no readFile option, as the README shows', async () => {
    const keys = inject('stubKeys')
    const anthropic = await stubControl(inject('stubs').anthropic).session()
    const file = join(dir, 'anthropic-key')
    writeFileSync(file, `${keys.anthropic.apiKey}\n`)
    const app = new Hono<{ Variables: SecretsVariables }>()
    app.use(secrets())
    app.get('/models', async (c) => c.json(await c.var.anthropic.models.list()))
    app.get('/where', (c) =>
      c.json({ source: c.var.secrets.anthropic.credentials.apiKey.current?.source })
    )
    app.onError(onError)
    const env = { ANTHROPIC_API_KEY_FILE: file, ANTHROPIC_BASE_URL: anthropic.url }
    const where = await app.request('/where', {}, env)
    expect(await where.json()).toEqual({ source: `file:${file}` })
    const response = await app.request('/models', {}, env)
    expect(response.status).toBe(200)
    expect(((await response.json()) as { data: unknown[] }).data.length).toBeGreaterThan(0)
  })

  it('c.var.anthropic uploads (multipart), counts tokens and downloads files through keyline', async () => {
    const keys = inject('stubKeys')
    const anthropic = await stubControl(inject('stubs').anthropic).session()
    const app = new Hono<{ Variables: SecretsVariables }>()
    app.use(secrets())
    app.post('/roundtrip', async (c) => {
      const bytes = new Uint8Array(await c.req.arrayBuffer())
      const file = await toFile(bytes, 'notes.bin', { type: 'application/octet-stream' })
      const uploaded = await c.var.anthropic.beta.files.upload({
        file,
        betas: ['files-api-2025-04-14'],
      })
      const counted = await c.var.anthropic.messages.countTokens({
        model: 'claude-sonnet-5-5',
        messages: [{ role: 'user', content: 'hello there' }],
      })
      const content = await c.var.anthropic.beta.files.download(uploaded.id)
      return c.json({
        size: uploaded.size_bytes,
        tokens: counted.input_tokens,
        same: Buffer.from(await content.arrayBuffer()).equals(Buffer.from(bytes)),
      })
    })
    app.onError(onError)
    const env = { ANTHROPIC_API_KEY: keys.anthropic.apiKey, ANTHROPIC_BASE_URL: anthropic.url }
    const bytes = crypto.getRandomValues(new Uint8Array(5000))
    const response = await app.request('/roundtrip', { method: 'POST', body: bytes }, env)
    expect(response.status).toBe(200)
    expect(await response.json()).toEqual({ size: 5000, tokens: expect.any(Number), same: true })
    const [upload] = await anthropic.requests()
    expect(upload?.headers['content-type']).toMatch(/^multipart\/form-data; boundary=/)
  })
})

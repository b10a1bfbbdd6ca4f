import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
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
})

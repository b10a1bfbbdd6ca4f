/// <reference lib="deno.ns" />
import assert from 'node:assert/strict'
import { Hono } from 'hono'
import { variablesOf } from '../../src/catalog/definitions.ts'
import { providerDefinitions } from '../../src/catalog/providers.ts'
import { createApp } from '../../src/index.ts'
import { type SecretsVariables, secrets } from '../../src/middleware/secrets.ts'
import { SecretRegistry } from '../../src/secrets/registry.ts'

const newValue = (): string => `sk-test-${crypto.randomUUID()}`

const PROVIDER_VARIABLES = Object.values(providerDefinitions).flatMap((d) => variablesOf(d))

/**
 * Runs `body` with every provider variable removed from `Deno.env` (the developer's own keys
 * must not leak into the test), restoring them afterwards.
 */
const withCleanEnv = async (body: () => Promise<void>): Promise<void> => {
  const saved = new Map<string, string>()
  for (const name of PROVIDER_VARIABLES) {
    const value = Deno.env.get(name)
    if (value !== undefined) saved.set(name, value)
    Deno.env.delete(name)
  }
  try {
    await body()
  } finally {
    for (const name of PROVIDER_VARIABLES) Deno.env.delete(name)
    for (const [name, value] of saved) Deno.env.set(name, value)
  }
}

interface Probe {
  configured: boolean
  fingerprint: string | null
  source: string | null
  generation: number
}

/** A tiny app whose one route reports what `secrets()` read from `Deno.env` (the real readEnv). */
const probeApp = (registry: SecretRegistry): Hono<{ Variables: SecretsVariables }> => {
  const app = new Hono<{ Variables: SecretsVariables }>()
  app.use(secrets({ registry }))
  app.get('/probe', (c) => {
    const anthropic = c.var.secrets.anthropic
    const current = anthropic.credentials.apiKey.current
    return c.json({
      configured: anthropic.configured,
      fingerprint: current?.fingerprint ?? null,
      source: current?.source ?? null,
      generation: anthropic.generation,
    } satisfies Probe)
  })
  return app
}

const probe = async (app: { request: (path: string) => Response | Promise<Response> }) => {
  const response = await app.request('/probe')
  assert.equal(response.status, 200)
  return (await response.json()) as Probe
}

Deno.test('secrets() reads ANTHROPIC_API_KEY from Deno.env through readEnv', async () => {
  await withCleanEnv(async () => {
    const app = probeApp(new SecretRegistry({ readFile: (path) => Deno.readTextFile(path) }))
    const empty = await probe(app)
    assert.equal(empty.configured, false)
    assert.equal(empty.fingerprint, null)

    const value = newValue()
    Deno.env.set('ANTHROPIC_API_KEY', value)
    const set = await probe(app)
    assert.equal(set.configured, true)
    assert.equal(set.fingerprint, `…${value.slice(-4)}`)
    assert.equal(set.source, 'env:ANTHROPIC_API_KEY')
    assert.notEqual(set.generation, empty.generation)

    assert.equal((await probe(app)).generation, set.generation, 'same value, same generation')

    Deno.env.set('ANTHROPIC_API_KEY', newValue())
    assert.notEqual((await probe(app)).generation, set.generation, 'new value, new generation')
  })
})

/** Writing the temporary secret file needs `--allow-write`; without it the case is reported ignored. */
const canWrite = Deno.permissions.querySync({ name: 'write' }).state === 'granted'

Deno.test({
  name: 'secrets() reads ANTHROPIC_API_KEY_FILE with Deno.readTextFile; reload() picks up a change',
  ignore: !canWrite,
  fn: async () => {
    await withCleanEnv(async () => {
      const file = await Deno.makeTempFile({ prefix: 'keyline-secret-' })
      try {
        const first = newValue()
        await Deno.writeTextFile(file, `${first}\n`)
        Deno.env.set('ANTHROPIC_API_KEY_FILE', file)
        const registry = new SecretRegistry({ readFile: (path) => Deno.readTextFile(path) })
        const app = probeApp(registry)

        const before = await probe(app)
        assert.equal(before.configured, true)
        assert.equal(before.source, `file:${file}`)
        assert.equal(before.fingerprint, `…${first.slice(-4)}`, 'the trailing newline is trimmed')

        const second = newValue()
        await Deno.writeTextFile(file, second)
        const cached = await probe(app)
        assert.equal(
          cached.generation,
          before.generation,
          'read again only after the cache expires'
        )

        registry.reload()
        const after = await probe(app)
        assert.equal(after.fingerprint, `…${second.slice(-4)}`)
        assert.notEqual(after.generation, before.generation)

        registry.reload()
        assert.equal(
          (await probe(app)).generation,
          after.generation,
          'unchanged file, same generation'
        )
      } finally {
        await Deno.remove(file)
      }
    })
  },
})

Deno.test('an unreadable ANTHROPIC_API_KEY_FILE leaves the provider unconfigured, with the reason', async () => {
  await withCleanEnv(async () => {
    const missing = `/nonexistent-${crypto.randomUUID()}/anthropic-key`
    Deno.env.set('ANTHROPIC_API_KEY_FILE', missing)
    const registry = new SecretRegistry({ readFile: (path) => Deno.readTextFile(path) })
    const snapshot = await registry.resolveProvider(Deno.env.toObject(), 'anthropic')
    assert.equal(snapshot.configured, false)
    assert.deepEqual(
      snapshot.issues.map((issue) => [issue.reason, issue.variable]),
      [
        ['file_unreadable', 'ANTHROPIC_API_KEY_FILE'],
        ['missing', 'ANTHROPIC_API_KEY'],
      ]
    )
  })
})

Deno.test('createApp on Deno: /healthz names deno; an unconfigured provider answers 503', async () => {
  await withCleanEnv(async () => {
    const app = createApp({ runtime: 'deno' })
    app.get('/touch', (c) => c.json({ models: typeof c.var.anthropic.models }))
    const health = await app.request('/healthz')
    assert.deepEqual(await health.json(), { status: 'ok', runtime: 'deno' })

    const response = await app.request('/touch')
    assert.equal(response.status, 503)
    const body = (await response.json()) as { error: Record<string, string> }
    assert.equal(body.error.type, 'provider_not_configured')
    assert.equal(body.error.provider, 'anthropic')
    assert.match(body.error.message ?? '', /ANTHROPIC_API_KEY/)

    Deno.env.set('ANTHROPIC_API_KEY', newValue())
    const configured = await app.request('/touch')
    assert.equal(configured.status, 200)
    assert.deepEqual(await configured.json(), { models: 'object' })
  })
})

import { execFile } from 'node:child_process'
import { readFile, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { promisify } from 'node:util'
import { afterAll, beforeAll, expect, it } from 'vitest'
import { startAnthropicStub } from '../stubs/anthropic.ts'
import { stubControl } from '../stubs/control.ts'
import type { StartedStub } from '../stubs/stub-server.ts'
import { describeRuntimes, type RuntimeContext } from './harness/describe-runtimes.ts'
import { baseEnv, NODE_BIN, REPO_ROOT, WRANGLER_JS } from './harness/runtimes.ts'

/**
 * A Cloudflare Secrets Store binding under `wrangler dev`: wrangler.toml plus a
 * `[[secrets_store_secrets]]` binding named `ANTHROPIC_API_KEY`, its secret created in the
 * server's local store with `wrangler secrets-store secret create` (local, `--persist-to`). The
 * key reaches upstream, the status names `secrets-store:ANTHROPIC_API_KEY`, and a value updated
 * in the store is used after `POST /admin/keys/reload`.
 */
const run = promisify(execFile)
const STORE_ID = '0123456789abcdef0123456789abcdef'
const SECRET_NAME = 'keyline-anthropic-key'
const CLIENT_TOKEN = `kl-test-${crypto.randomUUID()}`
const ADMIN_TOKEN = `admin-test-${crypto.randomUUID()}`
const firstKey = `sk-ant-test-${crypto.randomUUID()}`

let stub: StartedStub
let serverDir = ''

beforeAll(async () => {
  stub = await startAnthropicStub()
})
afterAll(async () => {
  await stub?.close()
})

/** Runs `wrangler secrets-store secret …` against the server's local store. */
const secretsStore = async (dir: string, args: string[]): Promise<string> => {
  const { stdout } = await run(
    NODE_BIN,
    [WRANGLER_JS, 'secrets-store', 'secret', ...args, '--persist-to', join(dir, 'state')],
    {
      cwd: dir,
      env: { ...baseEnv(), WRANGLER_SEND_METRICS: 'false', XDG_CONFIG_HOME: join(dir, 'config') },
      timeout: 60_000,
    }
  )
  return stdout
}

const send = async (ctx: RuntimeContext): Promise<number> => {
  const response = await ctx.fetch('/v1/messages', {
    method: 'POST',
    headers: { authorization: `Bearer ${CLIENT_TOKEN}`, 'content-type': 'application/json' },
    body: JSON.stringify({
      model: 'claude-test',
      max_tokens: 8,
      messages: [{ role: 'user', content: 'hello' }],
    }),
  })
  await response.body?.cancel()
  return response.status
}

describeRuntimes(
  'secrets from a Cloudflare Secrets Store binding',
  (ctx) => {
    it('the bound secret configures Anthropic; the status names secrets-store:<binding>', async () => {
      await stubControl(stub.url).keys({ accept: [firstKey] })
      expect(await send(ctx)).toBe(200)
      expect((await stubControl(stub.url).requests()).at(-1)?.headers['x-api-key']).toBe(firstKey)
      const status = await ctx.fetch('/admin/keys/status', {
        headers: { authorization: `Bearer ${ADMIN_TOKEN}` },
      })
      const text = await status.text()
      const body = JSON.parse(text) as {
        providers: { anthropic: { source: string } }
        stores: { source: string; store: string }[]
      }
      expect(body.providers.anthropic.source).toBe('secrets-store:ANTHROPIC_API_KEY')
      expect(body.stores).toEqual([
        expect.objectContaining({
          store: 'secrets-store',
          source: 'secrets-store:ANTHROPIC_API_KEY',
        }),
      ])
      expect(text).not.toContain(firstKey)
      expect(ctx.server.output()).not.toContain(firstKey)
    })

    it('a value updated in the store is used after POST /admin/keys/reload', async () => {
      const listed = await secretsStore(serverDir, ['list', STORE_ID])
      const secretId = /[0-9a-f]{32}/.exec(
        listed.split('\n').find((line) => line.includes(SECRET_NAME)) ?? ''
      )?.[0]
      expect(secretId).toBeDefined()
      const rotated = `sk-ant-test-${crypto.randomUUID()}`
      await secretsStore(serverDir, [
        'update',
        STORE_ID,
        '--secret-id',
        secretId as string,
        '--value',
        rotated,
      ])
      await stubControl(stub.url).keys({ accept: [firstKey, rotated] })
      const reload = await ctx.fetch('/admin/keys/reload', {
        method: 'POST',
        headers: { authorization: `Bearer ${ADMIN_TOKEN}` },
      })
      expect(reload.status).toBe(200)
      expect(await send(ctx)).toBe(200)
      expect((await stubControl(stub.url).requests()).at(-1)?.headers['x-api-key']).toBe(rotated)
      expect(ctx.server.output()).not.toContain(rotated)
    })
  },
  {
    runtimes: ['workerd'],
    bindings: () => ({
      ANTHROPIC_BASE_URL: stub.url,
      KEYLINE_CLIENT_TOKENS: CLIENT_TOKEN,
      ADMIN_TOKEN,
    }),
    launch: async (spec, { dir }) => {
      serverDir = dir
      const base = await readFile(join(REPO_ROOT, 'wrangler.toml'), 'utf8')
      const config = join(dir, 'wrangler.toml')
      await writeFile(
        config,
        // `main` and the `[alias]` paths made absolute, so the copy works from this directory.
        `${base
          .replace(/^main = ".*"$/m, `main = "${join(REPO_ROOT, 'src/entries/worker.ts')}"`)
          .replace(/= "\.\/([^"]+)"$/gm, (_, path: string) => `= "${join(REPO_ROOT, path)}"`)}
[[secrets_store_secrets]]
binding = "ANTHROPIC_API_KEY"
store_id = "${STORE_ID}"
secret_name = "${SECRET_NAME}"
`
      )
      await secretsStore(dir, [
        'create',
        STORE_ID,
        '--name',
        SECRET_NAME,
        '--value',
        firstKey,
        '--scopes',
        'workers',
      ])
      const args = [...spec.args]
      args[args.indexOf('--config') + 1] = config
      return { ...spec, args }
    },
  }
)

import { writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { afterAll, beforeAll, expect, it } from 'vitest'
import { startAnthropicStub } from '../stubs/anthropic.ts'
import { stubControl } from '../stubs/control.ts'
import type { StartedStub } from '../stubs/stub-server.ts'
import { describeRuntimes, type RuntimeContext } from './harness/describe-runtimes.ts'

/**
 * `<NAME>_FILE` secrets on the runtimes that read files (node, deno; workerd has no file
 * system): the key is read from a file in the server's temporary directory, reaches the
 * upstream (a stub Anthropic), and a rewritten file is picked up with no restart once the
 * registry's file cache (5 s) expires.
 */
const CLIENT_TOKEN = `kl-test-${crypto.randomUUID()}`
const newKey = (): string => `sk-ant-test-${crypto.randomUUID()}`

let stub: StartedStub
const firstKeys = new Map<string, string>()

beforeAll(async () => {
  stub = await startAnthropicStub()
})
afterAll(async () => {
  await stub?.close()
})

const sendMessage = (ctx: RuntimeContext): Promise<Response> =>
  ctx.fetch('/v1/messages', {
    method: 'POST',
    headers: { authorization: `Bearer ${CLIENT_TOKEN}`, 'content-type': 'application/json' },
    body: JSON.stringify({
      model: 'claude-test',
      max_tokens: 16,
      messages: [{ role: 'user', content: 'hello' }],
    }),
  })

describeRuntimes(
  'secrets from _FILE',
  (ctx) => {
    const keyFile = (): string => join(ctx.server.dir, 'anthropic-key')
    const upstream = () => stubControl(stub.url)

    it('ANTHROPIC_API_KEY_FILE configures Anthropic; the key from the file reaches upstream', async () => {
      const key = firstKeys.get(ctx.runtime) as string
      await upstream().keys({ accept: [key] })
      const response = await sendMessage(ctx)
      expect(response.status).toBe(200)
      await response.body?.cancel()
      const requests = await upstream().requests()
      expect(requests.some((r) => r.headers['x-api-key'] === key)).toBe(true)
    })

    it('a rewritten key file is used without a restart', async () => {
      const rotated = newKey()
      await upstream().keys({ accept: [rotated] })
      await writeFile(keyFile(), `${rotated}\n`)
      await expect
        .poll(
          async () => {
            const response = await sendMessage(ctx)
            await response.body?.cancel()
            const requests = await upstream().requests()
            return requests.at(-1)?.headers['x-api-key'] === rotated
          },
          { timeout: 15_000, interval: 500 }
        )
        .toBe(true)
    })
  },
  {
    runtimes: ['node', 'deno'],
    bindings: async ({ runtime, dir }) => {
      const key = newKey()
      firstKeys.set(runtime, key)
      const path = join(dir, 'anthropic-key')
      await writeFile(path, `${key}\n`)
      return {
        ANTHROPIC_API_KEY_FILE: path,
        ANTHROPIC_BASE_URL: stub.url,
        KEYLINE_CLIENT_TOKENS: CLIENT_TOKEN,
      }
    },
  }
)

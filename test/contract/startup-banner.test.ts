import { writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { expect, it } from 'vitest'
import { leakedPiece, randomSecret } from '../support/secret-pieces.ts'
import { describeRuntimes } from './harness/describe-runtimes.ts'

/**
 * Issue 22, item 6, on the entries that have a start (node, deno): without a terminal the one
 * start-up line is JSON (`msg`, `runtime`, `url` as before) with the facts as fields: which
 * providers are configured and from where, the proxy closed and what opens it, admin and the
 * console's URL, the shared store (a Redis URL without its password). Never a value.
 */
const secrets = new Map<string, { key: string; admin: string }>()

describeRuntimes(
  'start-up banner',
  (ctx) => {
    it('one JSON line with the providers, their sources, the proxy, admin and the store', async () => {
      let line: Record<string, unknown> | undefined
      for (let i = 0; i < 100 && !line; i++) {
        line = ctx.server
          .output()
          .split('\n')
          .filter((l) => l.startsWith('{'))
          .map((l) => JSON.parse(l) as Record<string, unknown>)
          .find((l) => l.msg === 'keyline listening')
        if (!line) await new Promise((resolve) => setTimeout(resolve, 100))
      }
      const listening = ctx.server
        .output()
        .split('\n')
        .filter((l) => l.includes('keyline listening'))
      expect(listening).toHaveLength(1)
      expect(line).toMatchObject({ level: 'info', runtime: ctx.runtime, url: ctx.url })
      const providers = line?.providers as Record<string, Record<string, unknown>>
      expect(providers.anthropic?.configured).toBe(true)
      expect(providers.anthropic?.sources).toEqual([
        expect.stringMatching(/^file:.*anthropic-key$/),
      ])
      expect(providers.fyers).toMatchObject({
        configured: false,
        missing: ['FYERS_CLIENT_ID', 'FYERS_ACCESS_TOKEN'],
      })
      expect(line?.proxy).toMatchObject({
        open: false,
        client_tokens: 0,
        opened_by: 'KEYLINE_CLIENT_TOKENS',
      })
      expect(line?.admin).toEqual({ on: true, console_url: `${ctx.url}/admin` })
      expect(line?.store).toEqual({ kind: 'file', location: expect.stringMatching(/vault\.json$/) })
      const { key, admin } = secrets.get(ctx.runtime) ?? { key: '', admin: '' }
      for (const value of [key, admin]) {
        expect(leakedPiece(ctx.server.output(), value, 12)).toBeUndefined()
      }
    })
  },
  {
    runtimes: ['node', 'deno'],
    bindings: async ({ runtime, dir }) => {
      const key = randomSecret('sk-ant-')
      const admin = randomSecret('adm-')
      secrets.set(runtime, { key, admin })
      const file = join(dir, 'anthropic-key')
      await writeFile(file, key)
      return {
        ANTHROPIC_API_KEY_FILE: file,
        ADMIN_TOKEN: admin,
        KEYLINE_VAULT_FILE: join(dir, 'vault.json'),
      }
    },
  }
)

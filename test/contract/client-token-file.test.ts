import { writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { expect, it } from 'vitest'
import { describeRuntimes } from './harness/describe-runtimes.ts'

/**
 * Named client tokens from `KEYLINE_CLIENT_TOKENS_FILE` on the runtimes that read files (node,
 * deno): the admin status lists their names and counts, and a token removed from the file is
 * refused from the reload on (the file cache would otherwise keep it for up to 5 s).
 */
const ADMIN_TOKEN = `admin-${crypto.randomUUID()}`
const KEPT = `kept-${crypto.randomUUID()}`
const REMOVED = `removed-${crypto.randomUUID()}`

describeRuntimes(
  'client tokens from a file',
  (ctx) => {
    const models = async (token: string): Promise<number> => {
      const res = await ctx.fetch('/v1/models', { headers: { authorization: `Bearer ${token}` } })
      await res.body?.cancel()
      return res.status
    }
    const admin = (path: string, method = 'GET') =>
      ctx.fetch(path, { method, headers: { authorization: `Bearer ${ADMIN_TOKEN}` } })

    it('lists names and counts, and revokes a removed token at the reload', async () => {
      // No Anthropic key: an accepted token gets 503, a refused one 401.
      expect(await models(REMOVED)).toBe(503)
      const status = await admin('/admin/keys/status')
      const text = await status.text()
      expect(JSON.parse(text).clients).toMatchObject({ count: 2, names: { ci: 1, laptop: 1 } })
      expect(text).not.toContain(KEPT)
      expect(text).not.toContain(REMOVED)

      await writeFile(join(ctx.server.dir, 'client-tokens'), `ci=${KEPT}\n`)
      const reload = await admin('/admin/keys/reload', 'POST')
      expect(reload.status).toBe(200)
      expect(((await reload.json()) as { clients: unknown }).clients).toMatchObject({
        count: 1,
        names: { ci: 1 },
      })
      expect(await models(REMOVED)).toBe(401)
      expect(await models(KEPT)).toBe(503)
    })
  },
  {
    runtimes: ['node', 'deno'],
    bindings: async ({ dir }) => {
      const file = join(dir, 'client-tokens')
      await writeFile(file, `ci=${KEPT}\nlaptop=${REMOVED}\n`)
      return { ADMIN_TOKEN, KEYLINE_CLIENT_TOKENS_FILE: file }
    },
  }
)

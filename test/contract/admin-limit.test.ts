import { expect, it } from 'vitest'
import { describeRuntimes } from './harness/describe-runtimes.ts'

const ADMIN_TOKEN = `admin-token-${crypto.randomUUID()}`
const GUESSES = 200
const LIMIT = 10

/**
 * The admin failure limit holds under parallel guesses on every runtime: each request counts
 * against the limit before its token is judged, so 200 wrong guesses sent at once from one
 * address get exactly the limit's verdicts (401) and a 429 for every other one.
 */
describeRuntimes(
  'admin failure limit',
  (ctx) => {
    it(`gives ${GUESSES} concurrent wrong guesses from one address ${LIMIT} verdicts`, async () => {
      const statuses = await Promise.all(
        Array.from({ length: GUESSES }, async () => {
          const res = await ctx.fetch('/admin/keys/status', {
            headers: { authorization: `Bearer wrong-${crypto.randomUUID()}` },
          })
          await res.body?.cancel()
          return res.status
        })
      )
      const counts: Record<number, number> = {}
      for (const status of statuses) counts[status] = (counts[status] ?? 0) + 1
      expect(counts).toEqual({ 401: LIMIT, 429: GUESSES - LIMIT })
      // the limit stays spent for the window, the right token included
      const after = await ctx.fetch('/admin/keys/status', {
        headers: { authorization: `Bearer ${ADMIN_TOKEN}` },
      })
      expect(after.status).toBe(429)
      expect(Number(after.headers.get('retry-after'))).toBeGreaterThan(0)
    })
  },
  { bindings: { ADMIN_TOKEN } }
)

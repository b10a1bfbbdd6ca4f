import { afterAll, beforeAll, expect, it } from 'vitest'
import { startAnthropicStub } from '../stubs/anthropic.ts'
import { generateStubKeys, stubOptionsFor } from '../stubs/fixtures.ts'
import type { StartedStub } from '../stubs/stub-server.ts'
import { awayFromMinuteEdge, countsOf, type StatusCount } from '../support/quota-window.ts'
import { describeRuntimes } from './harness/describe-runtimes.ts'

/**
 * Per-client quotas on every runtime's real server, each with its own engine: memory on Node
 * and Deno (no Redis here; test/contract/client-quotas.test.ts runs replicas on Redis), the
 * `KEYLINE_LIMITS` Durable Object under `wrangler dev`. Exact rpm under parallel requests, the
 * 429's Anthropic shape and headers, a neighbour untouched, the engine in the status.
 */
const keys = generateStubKeys()
const ADMIN = `admin-${crypto.randomUUID()}`
const CI = `ci-${crypto.randomUUID()}`
const FREE = `free-${crypto.randomUUID()}`
let stub: StartedStub

beforeAll(async () => {
  stub = await startAnthropicStub(stubOptionsFor(keys).anthropic)
})
afterAll(() => stub?.close())

const ENGINES = { node: 'memory', deno: 'memory', workerd: 'durable-object' } as const

describeRuntimes(
  'client quotas',
  (ctx) => {
    const as = (token: string) =>
      ctx.fetch('/v1/models', { headers: { authorization: `Bearer ${token}` } })

    it('pass exactly rpm of 12 parallel requests, refuse the rest in Anthropic shape', async () => {
      await awayFromMinuteEdge()
      const answers = await Promise.all(Array.from({ length: 12 }, () => as(CI)))
      const statuses = answers.map((a) => a.status)
      expect(
        statuses.filter((s) => s === 200),
        ctx.server.output()
      ).toHaveLength(8)
      const refused = answers.filter((a) => a.status === 429)
      expect(refused).toHaveLength(4)
      const first = refused[0] as Response
      expect(first.headers.get('keyline-ratelimit-limit')).toBe('8')
      expect(first.headers.get('keyline-ratelimit-remaining')).toBe('0')
      expect(Number(first.headers.get('retry-after'))).toBeGreaterThanOrEqual(1)
      expect(await first.json()).toMatchObject({
        type: 'error',
        error: { type: 'rate_limit_error', message: expect.stringContaining('rpm=8') },
      })
      for (const a of answers) if (!a.bodyUsed) await a.body?.cancel()
      const free = await as(FREE)
      expect(free.status).toBe(200)
      expect(free.headers.get('keyline-ratelimit-limit')).toBeNull()
    })

    it.skipIf(ctx.runtime === 'workerd')(
      'warn at start of a quota for a name no client token has',
      async () => {
        await expect
          .poll(() => ctx.server.output())
          .toContain('KEYLINE_CLIENT_LIMITS: no client token is named ghost')
      }
    )

    it('show the engine and the counts in the admin status', async () => {
      const answer = await ctx.fetch('/admin/keys/status', {
        headers: { authorization: `Bearer ${ADMIN}` },
      })
      const limits = (
        (await answer.json()) as {
          limits: { engine: string; clients: Record<string, { counts: StatusCount[] }> }
        }
      ).limits
      expect(limits.engine).toBe(ENGINES[ctx.runtime])
      const ci = countsOf(limits.clients.ci)
      expect([ci.rpm?.used, ci.refused?.used]).toEqual([8, 4])
    })
  },
  {
    bindings: () => ({
      KEYLINE_CLIENT_TOKENS: `ci=${CI},free=${FREE}`,
      KEYLINE_CLIENT_LIMITS: 'ci:rpm=8,ghost:rpm=1',
      ADMIN_TOKEN: ADMIN,
      ANTHROPIC_API_KEY: keys.anthropic.apiKey,
      ANTHROPIC_BASE_URL: stub.url,
    }),
  }
)

import { expect, it } from 'vitest'
import { describeRuntimes } from './harness/describe-runtimes.ts'

const ADMIN_TOKEN = `admin-token-${crypto.randomUUID()}`
const ANTHROPIC_API_KEY = `sk-ant-test-${crypto.randomUUID()}`

/**
 * The admin API on every runtime: on with an admin token, never showing more than 4 characters
 * of a secret, and its failure limit bound to the real client (the socket on Node and Deno,
 * Cloudflare's address on Workers), so made-up `x-forwarded-for` headers cannot escape it.
 */
describeRuntimes(
  'admin API',
  (ctx) => {
    it('shows the status with fingerprints only', async () => {
      const res = await ctx.fetch('/admin/keys/status', {
        headers: { authorization: `Bearer ${ADMIN_TOKEN}` },
      })
      expect(res.status).toBe(200)
      const text = await res.text()
      expect(text).toContain(`…${ANTHROPIC_API_KEY.slice(-4)}`)
      expect(text).not.toContain(ANTHROPIC_API_KEY.slice(-5))
      expect(text).not.toContain(ADMIN_TOKEN.slice(-5))
    })

    it('limits failed attempts per real client, whatever x-forwarded-for says', async () => {
      const statuses: number[] = []
      for (let i = 0; i < 12; i++) {
        const res = await ctx.fetch('/admin/keys/status', {
          headers: {
            authorization: `Bearer wrong-${crypto.randomUUID()}`,
            'x-forwarded-for': `203.0.113.${i}`,
            'x-real-ip': `198.51.100.${i}`,
          },
        })
        statuses.push(res.status)
      }
      expect(statuses.slice(0, 10)).toEqual(Array(10).fill(401))
      expect(statuses.slice(10)).toEqual([429, 429])
    })
  },
  { bindings: { ADMIN_TOKEN, ANTHROPIC_API_KEY } }
)

import { expect, it } from 'vitest'
import { describeRuntimes } from './harness/describe-runtimes.ts'

const ADMIN_TOKEN = `admin-token-${crypto.randomUUID()}`
const ANTHROPIC_API_KEY = `sk-ant-test-${crypto.randomUUID()}`

/**
 * The admin console and the rotation events log on every runtime: the page and its script load
 * without a bearer under the strict CSP; a reload is listed by `GET /admin/events`. (The browser
 * test, test/e2e/admin-console.test.ts, drives the page itself on Node and workerd.)
 */
describeRuntimes(
  'admin console',
  (ctx) => {
    it('serves the page and its script under a strict CSP, without a bearer', async () => {
      const page = await ctx.fetch('/admin')
      expect(page.status).toBe(200)
      const csp = page.headers.get('content-security-policy') ?? ''
      expect(csp).toContain("script-src 'self'")
      expect(csp).toContain("frame-ancestors 'none'")
      expect(csp).not.toContain('unsafe-inline')
      expect(await page.text()).toContain('<script src="/admin/console.js"')
      const script = await ctx.fetch('/admin/console.js')
      expect(script.status).toBe(200)
      expect(script.headers.get('content-type')).toBe('text/javascript; charset=utf-8')
      // Served minified (scripts/generate-console.ts): its strings and property names remain.
      expect(await script.text()).toContain('"Bearer "+')
      expect(script.headers.get('content-security-policy')).toBe(csp)
      // On Workers the files come from the static assets (wrangler.toml [assets]), the same bytes.
      const style = await ctx.fetch('/admin/console.css')
      expect(style.status).toBe(200)
      expect(style.headers.get('content-type')).toBe('text/css; charset=utf-8')
      expect(style.headers.get('x-frame-options')).toBe('DENY')
      expect((await style.text()).length).toBeGreaterThan(100)
    })

    it('lists a reload in GET /admin/events, newest first', async () => {
      const headers = { authorization: `Bearer ${ADMIN_TOKEN}` }
      const reload = await ctx.fetch('/admin/keys/reload', { method: 'POST', headers })
      expect(reload.status).toBe(200)
      await reload.body?.cancel()
      const res = await ctx.fetch('/admin/events?limit=1', { headers })
      expect(res.status).toBe(200)
      const body = (await res.json()) as { events: { action: string; who: string }[] }
      expect(body.events).toHaveLength(1)
      expect(body.events[0]).toMatchObject({ action: 'reload', who: `…${ADMIN_TOKEN.slice(-4)}` })
    })
  },
  { bindings: { ADMIN_TOKEN, ANTHROPIC_API_KEY } }
)

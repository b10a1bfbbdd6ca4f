import { mkdir, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { type Browser, type BrowserContext, chromium, type Page } from 'playwright-core'
import { afterAll, beforeAll, expect, it } from 'vitest'
import { describeRuntimes } from '../contract/harness/describe-runtimes.ts'
import { REPO_ROOT } from '../contract/harness/runtimes.ts'
import { startAnthropicStub } from '../stubs/anthropic.ts'
import { type StubControl, stubControl } from '../stubs/control.ts'
import { generateStubKeys, stubOptionsFor } from '../stubs/fixtures.ts'
import { issueStubToken, startFyersStub } from '../stubs/fyers.ts'
import type { StartedStub } from '../stubs/stub-server.ts'
import { awayFromMinuteEdge } from '../support/quota-window.ts'
import { CHROMIUM_PATH, chromiumAvailable } from './support/chromium.ts'

/**
 * The admin console in a real browser: playwright-core drives Debian's chromium (headless,
 * `CHROMIUM_PATH`) against the real Node entry and `wrangler dev`, with stub Anthropic and Fyers
 * upstreams. A wrong token shows a sentence and nothing else; the right one shows the status,
 * which refreshes itself; Reload, Validate next, Promote, Refresh Fyers token and Fyers sign-in
 * go through the confirmation and show their result and their event. Throughout, the DOM,
 * storage, cookies and every request URL hold no more than 4 characters of any secret.
 * Screenshots go to test-results/admin-console/ (gitignored).
 *
 * Without chromium the suite is skipped with a message, unless `CI` is set: then it fails.
 */
const found = await chromiumAvailable()
if (!found && !process.env.CI) {
  console.warn(
    `chromium not found at ${CHROMIUM_PATH}: skipping the admin console browser test. Install it (Debian: \`apt-get install chromium\`) or set CHROMIUM_PATH; under CI a missing chromium fails the test.`
  )
}
const SHOTS = join(REPO_ROOT, 'test-results', 'admin-console')

const ADMIN_TOKEN = `kl-e2e-admin-${crypto.randomUUID()}`
const CLIENT_TOKEN = `kl-e2e-client-${crypto.randomUUID()}`
/** The client token's name, and its quotas (`KEYLINE_CLIENT_LIMITS`). */
const CLIENT_NAME = 'e2e'
const CLIENT_RPM = 50
const CLIENT_TPD = 100_000
/** How long the quota test waits for the page to show its two requests. */
const QUOTA_POLL_MS = 12_000
const generated = generateStubKeys()
/** A refresh token that says when it expires (15 days), as Fyers' do. */
const keys = {
  ...generated,
  fyers: {
    ...generated.fyers,
    refreshToken: issueStubToken('refresh', generated.fyers.clientId, 15 * 86_400),
  },
}
const FIRST_KEY = keys.anthropic.apiKey
const NEXT_KEY = `sk-ant-test-${crypto.randomUUID()}`
/** Node only: the key the key file is rewritten to before Reload. */
const REWRITTEN_KEY = `sk-ant-test-${crypto.randomUUID()}`

let anthropicStub: StartedStub | undefined
let fyersStub: StartedStub | undefined
let browser: Browser | undefined
const sessions = new Map<string, { anthropic: StubControl; fyers: StubControl; access: string }>()

beforeAll(async () => {
  if (!found) {
    if (process.env.CI) throw new Error(`chromium is required under CI: none at ${CHROMIUM_PATH}`)
    return
  }
  ;[anthropicStub, fyersStub] = await Promise.all([
    startAnthropicStub(),
    startFyersStub(stubOptionsFor(keys).fyers),
  ])
  browser = await chromium.launch({
    executablePath: CHROMIUM_PATH,
    headless: true,
    args: ['--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage'],
  })
  await mkdir(SHOTS, { recursive: true })
  console.info(`admin console screenshots: ${SHOTS}`)
}, 120_000)

afterAll(async () => {
  await browser?.close()
  await Promise.all([anthropicStub?.close(), fyersStub?.close()])
})

/** The random part of a secret: its fixed prefix (`sk-ant-test-`, a JWT's header) is no secret. */
const randomPart = (secret: string): string =>
  secret.split('.').length === 3
    ? (secret.split('.')[2] as string)
    : secret.replace(/^(sk-ant-test-|test-secret-|kl-e2e-[a-z]+-)/, '')

/** Every secret the server holds; the Fyers client id is public (it is in the sign-in URL). */
const secretsOf = (access: string): string[] =>
  [
    ADMIN_TOKEN,
    CLIENT_TOKEN,
    FIRST_KEY,
    NEXT_KEY,
    REWRITTEN_KEY,
    access,
    keys.fyers.appSecret,
    keys.fyers.refreshToken,
  ].map(randomPart)

/** The first 5-character piece of a secret found in `text`. */
const leak = (text: string, secrets: readonly string[]): string | undefined => {
  for (const secret of secrets) {
    for (let i = 0; i + 5 <= secret.length; i++) {
      const piece = secret.slice(i, i + 5)
      if (text.includes(piece)) return `${piece} (of a secret ending ${secret.slice(-4)})`
    }
  }
  return undefined
}

/** What a page exposes: its DOM with form values, storage and cookies. */
const exposed = async (page: Page): Promise<string> =>
  page.evaluate(() => {
    const values = [...document.querySelectorAll('input')].map((i) => i.value)
    const storage = (s: Storage) =>
      Array.from({ length: s.length }, (_, i) => `${s.key(i)}=${s.getItem(s.key(i) ?? '')}`)
    // Event ids (`data-event`) are keyline's own random hex: they could share 5 characters with
    // a hex secret by chance, so they are left out of what is searched.
    const html = document.documentElement.cloneNode(true) as HTMLElement
    for (const row of html.querySelectorAll('[data-event]')) row.removeAttribute('data-event')
    return JSON.stringify({
      html: html.outerHTML,
      values,
      session: storage(sessionStorage),
      local: storage(localStorage),
      cookie: document.cookie,
    })
  })

const cardField = async (page: Page, provider: string, term: string): Promise<string> =>
  (await page
    .locator(`#provider-${provider} dt`, { hasText: new RegExp(`^${term}$`) })
    .locator('xpath=following-sibling::dd[1]')
    .textContent()) ?? ''

/** Presses an action button and confirms it in the dialog, by keyboard. */
const confirmAction = async (page: Page, selector: string): Promise<void> => {
  await page.focus(selector)
  await page.keyboard.press('Enter')
  const dialog = page.locator('#confirm')
  await expect.poll(() => dialog.evaluate((d) => (d as HTMLDialogElement).open)).toBe(true)
  await page.focus('#confirm-ok')
  await page.keyboard.press('Enter')
}

describeRuntimes(
  'admin console in chromium',
  (ctx) => {
    let context: BrowserContext
    let page: Page
    const urls: string[] = []
    const problems: string[] = []
    const shot = (name: string) =>
      page.screenshot({ path: join(SHOTS, `${ctx.runtime}-${name}.png`), fullPage: true })

    beforeAll(async () => {
      if (!browser) return
      context = await browser.newContext({ viewport: { width: 1200, height: 900 } })
      context.on('request', (request) => urls.push(request.url()))
      page = await context.newPage()
      page.on('console', (message) => {
        if (message.type() === 'error' && !/Failed to load resource/.test(message.text())) {
          problems.push(message.text())
        }
      })
      page.on('pageerror', (error) => problems.push(String(error)))
    })
    afterAll(async () => {
      await context?.close()
    })

    it.skipIf(!found)('a wrong token shows a sentence and nothing else', async () => {
      const response = await page.goto(`${ctx.url}/admin`)
      expect(response?.status()).toBe(200)
      expect(response?.headers()['content-security-policy']).toContain("frame-ancestors 'none'")
      await page.fill('#token', `kl-wrong-${crypto.randomUUID()}`)
      await page.keyboard.press('Enter')
      const error = page.locator('#error')
      await expect
        .poll(() => error.textContent())
        .toBe('The admin token was not accepted. Check it and sign in again.')
      expect(await page.locator('#console').isHidden()).toBe(true)
      expect(await page.locator('#providers').innerHTML()).toBe('')
      expect(await page.locator('#events-body').innerHTML()).toBe('')
      await shot('1-wrong-token')
    })

    it.skipIf(!found)('a network failure shows a sentence', async () => {
      await page.route('**/admin/keys/status', (route) => route.abort('connectionrefused'))
      await page.fill('#token', ADMIN_TOKEN)
      await page.keyboard.press('Enter')
      await expect
        .poll(() => page.locator('#error').textContent())
        .toBe('keyline could not be reached. Check the server and your network, then try again.')
      expect(await page.locator('#console').isHidden()).toBe(true)
      await page.unroute('**/admin/keys/status')
    })

    it.skipIf(!found)('signs in and shows each provider, refreshing itself', async () => {
      await page.fill('#token', ADMIN_TOKEN)
      await page.keyboard.press('Enter')
      await page.locator('#provider-anthropic').waitFor()
      expect(await page.locator('#error').isHidden()).toBe(true)
      const current = FIRST_KEY
      expect(await cardField(page, 'anthropic', 'Configured')).toBe('yes')
      expect(await cardField(page, 'anthropic', 'Current apiKey')).toContain(
        `…${current.slice(-4)}`
      )
      expect(await cardField(page, 'anthropic', 'Next apiKey')).toContain(`…${NEXT_KEY.slice(-4)}`)
      expect(await cardField(page, 'anthropic', 'Next validity')).toMatch(/^valid/)
      expect(await cardField(page, 'anthropic', 'Health')).toBe('0 failures in a row')
      expect(await cardField(page, 'fyers', 'Access token expires')).not.toBe('unknown')
      expect(await cardField(page, 'fyers', 'Refresh token')).toMatch(/^1[45](\.\d)? days left/)
      expect(await cardField(page, 'fyers', 'Last refresh')).toBe('none yet')
      // It refreshes itself: the time shown moves on without a reload.
      const before = await page.locator('#updated').textContent()
      await expect
        .poll(() => page.locator('#updated').textContent(), { timeout: 12_000 })
        .not.toBe(before)
      await shot('2-status')
      await page.setViewportSize({ width: 360, height: 740 })
      expect(await page.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(
        360
      )
      await shot('3-phone-width')
      await page.setViewportSize({ width: 1200, height: 900 })
    })

    it.skipIf(!found)('shows each client’s quota and what it used, refreshing itself', async () => {
      const quotas = page.locator('#quotas')
      // The two requests and the page's refresh that shows them fall in one UTC minute, the
      // rpm window: a minute ending within the poll's time is waited out first.
      await awayFromMinuteEdge(QUOTA_POLL_MS + 8_000)
      for (let i = 0; i < 2; i++) {
        const res = await fetch(`${ctx.url}/v1/messages`, {
          method: 'POST',
          headers: { authorization: `Bearer ${CLIENT_TOKEN}`, 'content-type': 'application/json' },
          body: JSON.stringify({
            model: 'claude-sonnet-4-5',
            max_tokens: 16,
            messages: [{ role: 'user', content: 'Hello' }],
          }),
        })
        await res.arrayBuffer()
        expect(res.status).toBe(200)
      }
      const rows = () =>
        quotas
          .locator('tr')
          .evaluateAll((trs) =>
            trs.map((tr) => [...tr.children].map((td) => (td.textContent ?? '').trim()))
          )
      // The page shows the two requests at its next refresh, without a reload.
      await expect
        .poll(rows, { timeout: QUOTA_POLL_MS })
        .toContainEqual([CLIENT_NAME, `rpm=${CLIENT_RPM}`, '2', ''])
      // A table a screen reader can read: its columns named, and what it holds.
      expect(await quotas.locator('thead th[scope=col]').allTextContents()).toEqual([
        'Client',
        'Limit',
        'Used',
        'Usage',
      ])
      expect(await quotas.locator('caption').textContent()).toBe(
        'Each client’s quotas and what it used of them'
      )
      expect(await quotas.locator('h3').textContent()).toBe(
        `Client quotas (${ctx.runtime === 'node' ? 'memory' : 'durable-object'})`
      )
      const meter = quotas.locator('tr', { hasText: `rpm=${CLIENT_RPM}` }).locator('meter')
      expect(await meter.getAttribute('value')).toBe('2')
      expect(await meter.getAttribute('max')).toBe(String(CLIENT_RPM))
      // The day's tokens: the stub's usage of the two answers, counted once each.
      const tokens = (await rows()).find((row) => row[1] === `tpd=${CLIENT_TPD}`)
      expect(Number(tokens?.[2])).toBeGreaterThan(0)
      await shot('3b-quotas')
    })

    it.skipIf(!found)('Reload asks first, then shows its result and its event', async () => {
      const generation = await cardField(page, 'anthropic', 'Generation')
      if (ctx.runtime === 'node') {
        // Node reads the key from a file: rewrite it, so the reload finds a new generation.
        await writeFile(join(ctx.server.dir, 'anthropic-key'), `${REWRITTEN_KEY}\n`)
      }
      // Cancelling does nothing.
      await page.focus('#reload')
      await page.keyboard.press('Enter')
      await page.keyboard.press('Escape')
      await expect.poll(() => page.locator('#result').textContent()).toBe('Cancelled.')
      await confirmAction(page, '#reload')
      await expect.poll(() => page.locator('#result').textContent()).toMatch(/^Reloaded\./)
      if (ctx.runtime === 'node') {
        await expect.poll(() => cardField(page, 'anthropic', 'Generation')).not.toBe(generation)
        expect(await cardField(page, 'anthropic', 'Current apiKey')).toContain(
          `…${REWRITTEN_KEY.slice(-4)}`
        )
      }
      const first = page.locator('#events-body tr').first()
      await expect.poll(() => first.textContent()).toContain('reload')
      expect(await first.textContent()).toContain(`…${ADMIN_TOKEN.slice(-4)}`)
      await shot('4-reloaded')
    })

    it.skipIf(!found)('Validate next and Promote: the staged key becomes current', async () => {
      await confirmAction(page, '#validate-anthropic')
      await expect
        .poll(() => page.locator('#result').textContent())
        .toBe(`The next Anthropic credential …${NEXT_KEY.slice(-4)} is valid.`)
      const generation = await cardField(page, 'anthropic', 'Generation')
      await confirmAction(page, '#promote-anthropic')
      await expect
        .poll(() => page.locator('#result').textContent())
        .toMatch(new RegExp(`^Promoted the next Anthropic apiKey …${NEXT_KEY.slice(-4)}`))
      expect(await cardField(page, 'anthropic', 'Current apiKey')).toContain(
        `…${NEXT_KEY.slice(-4)}`
      )
      expect(await cardField(page, 'anthropic', 'Generation')).not.toBe(generation)
      const rows = page.locator('#events-body tr')
      await expect.poll(() => rows.first().textContent()).toContain('promote')
      expect(await rows.first().textContent()).toContain('ok')
      expect(await rows.nth(1).textContent()).toContain('validate')
      await shot('5-promoted')
    })

    it.skipIf(!found)('Refresh Fyers token and Fyers sign-in', async () => {
      await confirmAction(page, '#fyers-refresh')
      await expect
        .poll(() => page.locator('#result').textContent())
        .toMatch(/^The Fyers access token was refreshed: …/)
      await expect
        .poll(() => cardField(page, 'fyers', 'Last refresh'))
        .toMatch(/^success \(admin\)/)
      const popup = context.waitForEvent('page')
      await confirmAction(page, '#fyers-sign-in')
      const opened = await popup
      // The new window went to Fyers' (the stub's) sign-in page with keyline's signed state.
      await expect
        .poll(() => urls.find((url) => url.includes('/api/v3/generate-authcode?')))
        .toContain(`${sessions.get(ctx.runtime)?.fyers.url}/api/v3/generate-authcode?`)
      await opened.close()
      await expect
        .poll(() => page.locator('#result').textContent())
        .toMatch(/^The Fyers sign-in page opened in a new window/)
      // A blocked pop-up leaves a link to the same page.
      const link = page.locator('#result a')
      expect(await link.getAttribute('href')).toContain('/api/v3/generate-authcode?')
      expect(await link.getAttribute('rel')).toBe('noopener noreferrer')
      await expect
        .poll(() => page.locator('#events-body tr').first().textContent())
        .toContain('fyers-login')
      await shot('6-fyers')
    })

    it.skipIf(!found)('no secret beyond 4 characters in the DOM, storage or any URL', async () => {
      const session = sessions.get(ctx.runtime)
      const secrets = secretsOf(session?.access ?? '')
      expect(leak(await exposed(page), secrets)).toBeUndefined()
      // The sign-in URLs carry the (public) client id, keyline's signed state and Fyers' auth
      // code; the stub's JWTs end in 32 random bytes, the part looked for.
      // (An events cursor, `before=<event id>`, is keyline's own random hex: left out.)
      for (const url of urls) {
        expect(leak(url.replace(/before=[^&]*/, ''), secrets), url).toBeUndefined()
      }
      expect(urls.length).toBeGreaterThan(5)
      for (const url of urls) expect(new URL(url).search).not.toMatch(/token=/i)
      expect(await context.cookies()).toEqual([])
      expect(problems).toEqual([])
    })

    it.skipIf(!found)('older events stay on the page across its refreshes', async () => {
      // More events than one page (20): reloads through the admin API.
      for (let i = 0; i < 22; i++) {
        const reloaded = await fetch(`${ctx.url}/admin/keys/reload`, {
          method: 'POST',
          headers: { authorization: `Bearer ${ADMIN_TOKEN}` },
        })
        await reloaded.body?.cancel()
      }
      await expect
        .poll(() => page.locator('#events-more').isVisible(), { timeout: 12_000 })
        .toBe(true)
      await page.click('#events-more')
      await expect.poll(() => page.locator('#events-body tr').count()).toBeGreaterThan(20)
      const shown = await page.locator('#events-body tr').count()
      // Past a refresh (every 5 s), the older rows are still there.
      const before = await page.locator('#updated').textContent()
      await expect
        .poll(() => page.locator('#updated').textContent(), { timeout: 12_000 })
        .not.toBe(before)
      expect(await page.locator('#events-body tr').count()).toBeGreaterThanOrEqual(shown)
    })

    it.skipIf(!found)('without its script the sign-in form sends no token anywhere', async () => {
      const bare = await context.newPage()
      await bare.route('**/admin/console.js', (route) => route.abort('failed'))
      const seen: string[] = []
      bare.on('request', (request) => seen.push(`${request.method()} ${request.url()}`))
      await bare.goto(`${ctx.url}/admin`)
      await bare.fill('#token', ADMIN_TOKEN)
      await bare.keyboard.press('Enter')
      await bare.waitForTimeout(500)
      expect(await bare.locator('#signin-button').isDisabled()).toBe(true)
      expect(seen.join('\n')).not.toContain(randomPart(ADMIN_TOKEN).slice(0, 8))
      expect(bare.url()).not.toContain('token')
      await bare.close()
    })

    it.skipIf(!found)('the failure limit shows a sentence, not a stack', async () => {
      const fresh = await context.newPage()
      await fresh.goto(`${ctx.url}/admin`)
      let text = ''
      for (let i = 0; i < 12 && !text.startsWith('Too many'); i++) {
        await fresh.fill('#token', `kl-wrong-${crypto.randomUUID()}`)
        await fresh.keyboard.press('Enter')
        await expect.poll(() => fresh.locator('#error').textContent()).not.toBe('')
        text = (await fresh.locator('#error').textContent()) ?? ''
        await fresh.evaluate(() => {
          const error = document.getElementById('error')
          if (error) error.textContent = ''
        })
      }
      expect(text).toMatch(
        /^Too many failed attempts from this address\. Wait \d+ seconds before trying again\.$/
      )
      await fresh.screenshot({ path: join(SHOTS, `${ctx.runtime}-7-rate-limited.png`) })
      await fresh.close()
    })
  },
  {
    runtimes: ['node', 'workerd'],
    startTimeoutMs: 90_000,
    bindings: async ({ runtime, dir }) => {
      if (!anthropicStub || !fyersStub) return {}
      const anthropic = await stubControl(anthropicStub.url).session()
      const fyers = await stubControl(fyersStub.url).session()
      await anthropic.keys({ accept: [FIRST_KEY, NEXT_KEY, REWRITTEN_KEY] })
      const access = issueStubToken('access', keys.fyers.clientId, 86_400)
      await fyers.keys({ accept: [access] })
      sessions.set(runtime, { anthropic, fyers, access })
      const key: Record<string, string> = {}
      if (runtime === 'node') {
        const path = join(dir, 'anthropic-key')
        await writeFile(path, `${FIRST_KEY}\n`)
        key.ANTHROPIC_API_KEY_FILE = path
      } else {
        key.ANTHROPIC_API_KEY = FIRST_KEY
      }
      return {
        ADMIN_TOKEN,
        KEYLINE_CLIENT_TOKENS: `${CLIENT_NAME}=${CLIENT_TOKEN}`,
        KEYLINE_CLIENT_LIMITS: `${CLIENT_NAME}:rpm=${CLIENT_RPM}:tpd=${CLIENT_TPD}`,
        ...key,
        ANTHROPIC_API_KEY_NEW: NEXT_KEY,
        ANTHROPIC_BASE_URL: anthropic.url,
        FYERS_BASE_URL: fyers.url,
        FYERS_CLIENT_ID: keys.fyers.clientId,
        FYERS_ACCESS_TOKEN: access,
        FYERS_APP_SECRET: keys.fyers.appSecret,
        FYERS_REFRESH_TOKEN: keys.fyers.refreshToken,
        FYERS_PIN: keys.fyers.pin,
        FYERS_REDIRECT_URI: 'http://127.0.0.1:9/admin/fyers/callback',
      }
    },
  }
)

import { describe, expect, it } from 'vitest'
import { bundledConsoleAssets } from '../../src/admin/console/bundled-assets.ts'
import { CONSOLE_HEADERS } from '../../src/admin/console/console-header-values.ts'
import { CONSOLE_ASSETS } from '../../src/admin/console/console-page.ts'
import type { ConsoleAssets } from '../../src/admin/console/console-source.ts'
import { RotationEvents } from '../../src/admin/events.ts'
import { createApp } from '../../src/app.ts'
import { staticConsoleAssets } from '../../src/entries/worker-assets.ts'
import { bindingsOnly } from '../../src/env.ts'
import type { LogRecord } from '../../src/log/logger.ts'
import { memoryStore } from '../../src/store/memory-store.ts'
import { fakeUpstream, generatedEnv, leaks, randomValue } from './admin-harness.ts'

/**
 * The admin console (`GET /admin` and its two assets) and the rotation events log
 * (`GET /admin/events`) through the whole app, with app.request: on Node and inside workerd.
 */
const setup = (
  options: { events?: RotationEvents; consoleAssets?: ConsoleAssets | undefined } = {}
) => {
  const upstream = fakeUpstream()
  const logs: LogRecord[] = []
  const app = createApp({
    env: bindingsOnly,
    fetch: upstream.fetch,
    logSink: (record) => logs.push(record),
    admin: {
      consoleAssets: 'consoleAssets' in options ? options.consoleAssets : bundledConsoleAssets,
      ...(options.events ? { events: options.events } : {}),
    },
  })
  const env: Record<string, string> = generatedEnv()
  const admin = (path: string, init: { method?: string; body?: unknown } = {}) =>
    app.request(
      path,
      {
        method: init.method ?? 'GET',
        headers: {
          authorization: `Bearer ${env.ADMIN_TOKEN}`,
          ...(init.body === undefined ? {} : { 'content-type': 'application/json' }),
        },
        ...(init.body === undefined ? {} : { body: JSON.stringify(init.body) }),
      },
      env
    )
  return { app, env, upstream, logs, admin }
}

const cspOf = (res: Response): Map<string, string> =>
  new Map(
    (res.headers.get('content-security-policy') ?? '')
      .split(';')
      .map((d) => d.trim())
      .filter(Boolean)
      .map((d) => [d.split(' ')[0] as string, d.slice(d.indexOf(' ') + 1)])
  )

describe('GET /admin (the console)', () => {
  it('is off (404) while no admin token is configured, page and assets alike', async () => {
    const { app, env } = setup()
    const { ADMIN_TOKEN: _, ...off } = env
    for (const path of ['/admin', CONSOLE_ASSETS.script, CONSOLE_ASSETS.style]) {
      const res = await app.request(path, {}, off)
      expect(res.status, path).toBe(404)
    }
  })

  it('serves the page without a bearer, with a strict CSP and no data or secret in it', async () => {
    const { app, env } = setup()
    const res = await app.request('/admin', {}, env)
    expect(res.status).toBe(200)
    expect(res.headers.get('content-type')).toMatch(/^text\/html/)
    expect(res.headers.get('cache-control')).toBe('no-store')
    const csp = cspOf(res)
    expect(csp.get('default-src')).toBe("'none'")
    expect(csp.get('script-src')).toBe("'self'")
    expect(csp.get('style-src')).toBe("'self'")
    expect(csp.get('connect-src')).toBe("'self'")
    expect(csp.get('frame-ancestors')).toBe("'none'")
    expect(res.headers.get('content-security-policy')).not.toContain('unsafe-')
    expect(res.headers.get('x-frame-options')).toBe('DENY')
    expect(res.headers.get('referrer-policy')).toBe('no-referrer')
    const page = await res.text()
    expect(page.startsWith('<!doctype html>')).toBe(true)
    // Every script is keyline's own file: none inline, none from elsewhere.
    const scripts = [...page.matchAll(/<script([^>]*)>([\s\S]*?)<\/script>/g)]
    expect(scripts).toHaveLength(1)
    expect(scripts[0]?.[1]).toContain(`src="${CONSOLE_ASSETS.script}"`)
    expect(scripts[0]?.[2]).toBe('')
    expect(page).not.toMatch(/\sstyle=|\son[a-z]+=|https?:\/\//)
    expect(page).toContain('<label for="token">Admin token</label>')
    for (const value of Object.values(env)) expect(leaks(page, value)).toBeUndefined()
  })

  it('serves its script and style sheet itself, under the same CSP', async () => {
    const { app, env } = setup()
    const js = await app.request(CONSOLE_ASSETS.script, {}, env)
    expect(js.status).toBe(200)
    expect(js.headers.get('content-type')).toBe('text/javascript; charset=utf-8')
    expect(cspOf(js).get('script-src')).toBe("'self'")
    const script = await js.text()
    // Served minified (scripts/generate-console.ts): its strings and property names remain.
    expect(script).toContain('"Bearer "+')
    expect(script).not.toMatch(/localStorage|sessionStorage|document\.cookie|innerHTML/)
    const css = await app.request(CONSOLE_ASSETS.style, {}, env)
    expect(css.status).toBe(200)
    expect(css.headers.get('content-type')).toBe('text/css; charset=utf-8')
  })
})

/**
 * A stand-in for the Worker's `ASSETS` binding (a Workers static assets `Fetcher`): the
 * generated files by name, a strong ETag, 304 to a matching If-None-Match, 404 for the rest.
 */
const assetsBinding = (files: Record<string, string>) => {
  const seen: Request[] = []
  return {
    seen,
    fetch: async (request: Request): Promise<Response> => {
      seen.push(request)
      const body = files[new URL(request.url).pathname.slice(1)]
      if (body === undefined) return new Response('Not Found', { status: 404 })
      const etag = `"${body.length}"`
      if (request.headers.get('if-none-match') === etag) {
        return new Response(null, { status: 304, headers: { etag } })
      }
      return new Response(body, {
        headers: { etag, 'content-type': 'application/octet-stream', 'x-asset': 'yes' },
      })
    },
  }
}

describe('GET /admin on Workers: the console from the static assets (ASSETS)', () => {
  const FILES: Record<string, string> = {
    'console.html': '<!doctype html><title>from assets</title>',
    'console.js': '"use strict";console.log("from assets")',
    'console.css': 'body{color:red}',
  }

  it('serves each file from the binding, with keyline’s content type, caching and CSP', async () => {
    const { app, env } = setup({ consoleAssets: staticConsoleAssets() })
    const ASSETS = assetsBinding(FILES)
    const expected = [
      ['/admin', 'console.html', 'text/html; charset=UTF-8', 'no-store'],
      [CONSOLE_ASSETS.script, 'console.js', 'text/javascript; charset=utf-8', 'no-cache'],
      [CONSOLE_ASSETS.style, 'console.css', 'text/css; charset=utf-8', 'no-cache'],
    ] as const
    for (const [path, file, type, cache] of expected) {
      const res = await app.request(path, {}, { ...env, ASSETS })
      expect(res.status, path).toBe(200)
      expect(await res.text()).toBe(FILES[file])
      expect(res.headers.get('content-type')).toBe(type)
      expect(res.headers.get('cache-control')).toBe(cache)
      expect(res.headers.get('x-asset')).toBeNull()
      for (const [name, value] of CONSOLE_HEADERS) expect(res.headers.get(name), name).toBe(value)
    }
    expect(ASSETS.seen.map((r) => new URL(r.url).pathname)).toEqual([
      '/console.html',
      '/console.js',
      '/console.css',
    ])
  })

  it('passes a conditional request on: an unchanged script is a 304 with its ETag', async () => {
    const { app, env } = setup({ consoleAssets: staticConsoleAssets() })
    const ASSETS = assetsBinding(FILES)
    const first = await app.request(CONSOLE_ASSETS.script, {}, { ...env, ASSETS })
    const etag = first.headers.get('etag') ?? ''
    expect(etag).not.toBe('')
    const again = await app.request(
      CONSOLE_ASSETS.script,
      { headers: { 'if-none-match': etag } },
      { ...env, ASSETS }
    )
    expect(again.status).toBe(304)
    expect(again.headers.get('etag')).toBe(etag)
    expect(again.headers.get('content-security-policy')).toBe(
      first.headers.get('content-security-policy')
    )
  })

  it('stays off (404, never asking the binding) while no admin token is configured', async () => {
    const { app, env } = setup({ consoleAssets: staticConsoleAssets() })
    const { ADMIN_TOKEN: _, ...off } = env
    const ASSETS = assetsBinding(FILES)
    for (const path of ['/admin', CONSOLE_ASSETS.script, CONSOLE_ASSETS.style]) {
      const res = await app.request(path, {}, { ...off, ASSETS })
      expect(res.status, path).toBe(404)
      expect((await res.json()).error.type).toBe('not_found')
    }
    expect(ASSETS.seen).toEqual([])
  })

  it('answers a clear 503 when the binding or a file is missing', async () => {
    const { app, env } = setup({ consoleAssets: staticConsoleAssets() })
    const unbound = await app.request('/admin', {}, env)
    expect(unbound.status).toBe(503)
    const body = await unbound.json()
    expect(body.error.type).toBe('console_unavailable')
    expect(body.error.message).toContain('ASSETS')
    const { 'console.css': _, ...partial } = FILES
    const missing = await app.request(
      CONSOLE_ASSETS.style,
      {},
      { ...env, ASSETS: assetsBinding(partial) }
    )
    expect(missing.status).toBe(503)
    expect((await missing.json()).error.message).toContain('style')
  })

  it('is absent (404) when the app is given no console files', async () => {
    const { app, env } = setup({ consoleAssets: undefined })
    expect((await app.request('/admin', {}, env)).status).toBe(404)
  })
})

describe('GET /admin/events', () => {
  it('needs the admin bearer', async () => {
    const { app, env } = setup()
    expect((await app.request('/admin/events', {}, env)).status).toBe(401)
    const wrong = await app.request(
      '/admin/events',
      { headers: { authorization: `Bearer ${randomValue('wrong', 32)}` } },
      env
    )
    expect(wrong.status).toBe(401)
  })

  it('lists reloads, validations and promotions newest first, who by fingerprint, never a secret', async () => {
    const { env, upstream, admin } = setup()
    const next = randomValue('next')
    upstream.anthropicKeys.add(next)
    expect((await admin('/admin/keys/status')).status).toBe(200)
    expect((await admin('/admin/keys/reload', { method: 'POST' })).status).toBe(200)
    env.ANTHROPIC_API_KEY_NEW = next
    const validated = await admin('/admin/keys/validate', {
      method: 'POST',
      body: { provider: 'anthropic' },
    })
    expect(validated.status).toBe(200)
    expect((await validated.json()).providers.anthropic.next.validity).toBe('valid')
    expect((await admin('/admin/keys/promote', { method: 'POST', body: {} })).status).toBe(400)
    expect(
      (await admin('/admin/keys/promote', { method: 'POST', body: { provider: 'anthropic' } }))
        .status
    ).toBe(200)

    const res = await admin('/admin/events')
    expect(res.status).toBe(200)
    expect(res.headers.get('cache-control')).toBe('no-store')
    const text = await res.text()
    const page = JSON.parse(text)
    const who = `…${env.ADMIN_TOKEN?.slice(-4)}`
    // The status is not an event; a rejected promotion is.
    expect(
      page.events.map((e: { action: string; result: string }) => [e.action, e.result])
    ).toEqual([
      ['promote', 'ok'],
      ['promote', 'rejected'],
      ['validate', 'ok'],
      ['reload', 'ok'],
    ])
    expect(page.next).toBeNull()
    for (const event of page.events) {
      expect(event.who).toBe(who)
      expect(Date.parse(event.at)).not.toBeNaN()
    }
    expect(page.events[0]).toMatchObject({ provider: 'anthropic' })
    expect(page.events[0].detail).toContain(`to: …${next.slice(-4)}`)
    expect(page.events[2].detail).toBe('next: anthropic: valid')
    for (const value of [...Object.values(env), next]) expect(leaks(text, value)).toBeUndefined()
  })

  it('pages with limit and before, and refuses a bad cursor or limit with 400', async () => {
    const { admin } = setup()
    for (let i = 0; i < 5; i++) await admin('/admin/keys/reload', { method: 'POST' })
    const first = await (await admin('/admin/events?limit=2')).json()
    expect(first.events).toHaveLength(2)
    expect(first.next).toBe(first.events[1].id)
    const second = await (await admin(`/admin/events?limit=2&before=${first.next}`)).json()
    expect(second.events).toHaveLength(2)
    expect(second.events[0].id < first.events[1].id).toBe(true)
    const third = await (await admin(`/admin/events?limit=2&before=${second.next}`)).json()
    expect(third.events).toHaveLength(1)
    expect(third.next).toBeNull()
    const ids = [...first.events, ...second.events, ...third.events].map((e) => e.id)
    expect(new Set(ids).size).toBe(5)
    expect([...ids].sort().reverse()).toEqual(ids)
    for (const query of ['limit=0', 'limit=101', 'limit=x', 'before=nope']) {
      const res = await admin(`/admin/events?${query}`)
      expect(res.status, query).toBe(400)
      expect((await res.json()).error.type).toBe('invalid_request')
    }
  })
})

describe('RotationEvents', () => {
  const event = (n: number) => ({
    who: 'system',
    action: 'reload' as const,
    provider: null,
    result: 'ok' as const,
    detail: `event ${n}`,
  })

  it('keeps only the newest `limit` events', async () => {
    const events = new RotationEvents({ limit: 3 })
    for (let n = 1; n <= 5; n++) await events.record({}, event(n))
    const page = await events.list({})
    expect(page.events.map((e) => e.detail)).toEqual(['event 5', 'event 4', 'event 3'])
  })

  it('instances sharing a store see each other’s events, concurrent appends included', async () => {
    const store = memoryStore()
    const a = new RotationEvents({ store: () => store })
    const b = new RotationEvents({ store: () => store })
    await Promise.all([1, 2, 3, 4].map((n) => (n % 2 ? a : b).record({}, event(n))))
    const seen = await b.list({})
    expect(seen.events.map((e) => e.detail).sort()).toEqual([
      'event 1',
      'event 2',
      'event 3',
      'event 4',
    ])
  })

  it('loses the event, not the action, when the store fails', async () => {
    const lines: Record<string, unknown>[] = []
    const down = async (): Promise<never> => {
      throw new Error('store down')
    }
    // Whether the store appends in one step (memory, a Durable Object) or under a lock (KV).
    const broken = { ...memoryStore(), put: down, appendLog: down }
    const events = new RotationEvents({ store: () => broken, log: (line) => lines.push(line) })
    await expect(events.record({}, event(1))).resolves.toBeUndefined()
    expect(lines[0]).toMatchObject({ level: 'warn' })
    expect((await events.list({})).events).toEqual([])
  })

  it('refuses a limit that is not a positive integer', () => {
    expect(() => new RotationEvents({ limit: 0 })).toThrow(TypeError)
  })
})

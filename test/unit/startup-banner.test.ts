import { describe, expect, it } from 'vitest'
import { type StartupFacts, startupBanner, startupFacts } from '../../src/entries/startup-report.ts'
import { SecretRegistry } from '../../src/secrets/registry.ts'
import { randomSecret } from '../support/secret-pieces.ts'

/**
 * Issue 22, item 6: the start-up banner of the Node and Deno entries, read from the wiring
 * (the registry's snapshot with sources, the client and admin tokens, the store's kind): a few
 * lines on a terminal, one JSON line otherwise; never a value, a Redis URL without its password.
 */
const registry = () => new SecretRegistry({ readFile: null })
const URL_ = 'http://127.0.0.1:8787'

describe('startupFacts', () => {
  it('reads providers and sources, the proxy, admin and the store from the wiring', async () => {
    const key = randomSecret('sk-ant-')
    const admin = randomSecret('adm-')
    const client = randomSecret('kl-')
    const password = randomSecret('pw-', 20)
    const env = {
      ANTHROPIC_API_KEY: key,
      ADMIN_TOKEN: admin,
      KEYLINE_CLIENT_TOKENS: `demo=${client}`,
      KEYLINE_REDIS_URL: `redis://user:${password}@redis.internal:6380/2`,
    }
    const facts = await startupFacts({ registry: registry(), store: { kind: 'redis' } }, env, {
      runtime: 'node',
      url: URL_,
    })
    expect(facts.providers.anthropic).toEqual({
      configured: true,
      sources: ['env:ANTHROPIC_API_KEY'],
      missing: [],
    })
    expect(facts.providers.fyers.configured).toBe(false)
    expect(facts.proxy).toMatchObject({ open: true, clientTokens: 1 })
    expect(facts.admin).toEqual({ on: true, consoleUrl: `${URL_}/admin` })
    expect(facts.store).toEqual({ kind: 'redis', location: 'redis://redis.internal:6380/2' })
    for (const tty of [true, false]) {
      const text = startupBanner(facts, { tty })
      for (const value of [key, admin, client, password]) expect(text).not.toContain(value)
    }
  })
})

const closed: StartupFacts = {
  runtime: 'deno',
  url: URL_,
  providers: {
    anthropic: { configured: true, sources: ['aws-sm:keyline/anthropic'], missing: [] },
    fyers: { configured: false, sources: [], missing: ['FYERS_CLIENT_ID', 'FYERS_ACCESS_TOKEN'] },
  },
  proxy: { open: false, clientTokens: 0, source: null, problem: 'missing' },
  admin: { on: false, consoleUrl: null },
  store: { kind: 'memory', location: null },
}

describe('startupBanner', () => {
  it('on a terminal: a few lines a person reads', () => {
    expect(startupBanner(closed, { tty: true })).toBe(
      [
        `keyline listening on ${URL_} (deno)`,
        '  Anthropic: configured from aws-sm:keyline/anthropic',
        '  Fyers: not configured (set FYERS_CLIENT_ID, FYERS_ACCESS_TOKEN)',
        '  Proxy: closed, no client tokens (set KEYLINE_CLIENT_TOKENS to open it)',
        '  Admin API and console: off (set ADMIN_TOKEN to turn them on)',
        '  Shared store: memory: nothing survives a restart (set KEYLINE_REDIS_URL or KEYLINE_VAULT_FILE)',
      ].join('\n')
    )
    const open = startupBanner(
      {
        ...closed,
        proxy: { open: true, clientTokens: 2, source: 'file:/run/tokens', problem: null },
        admin: { on: true, consoleUrl: `${URL_}/admin` },
        store: { kind: 'file', location: '/var/lib/keyline/vault.json' },
      },
      { tty: true }
    )
    expect(open).toContain('  Proxy: open, 2 client tokens from file:/run/tokens')
    expect(open).toContain(`  Admin API and console: on, console at ${URL_}/admin`)
    expect(open).toContain(
      '  Shared store: a file, for this one instance (/var/lib/keyline/vault.json)'
    )
  })

  it('otherwise: one JSON line keeping msg, runtime and url', () => {
    const text = startupBanner(closed, { tty: false })
    expect(text.split('\n')).toHaveLength(1)
    expect(JSON.parse(text)).toEqual({
      level: 'info',
      msg: 'keyline listening',
      runtime: 'deno',
      url: URL_,
      providers: closed.providers,
      proxy: {
        open: false,
        client_tokens: 0,
        source: null,
        problem: 'missing',
        opened_by: 'KEYLINE_CLIENT_TOKENS',
      },
      admin: { on: false, console_url: null },
      store: { kind: 'memory', location: null },
    })
  })
})

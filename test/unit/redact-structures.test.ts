import { describe, expect, it } from 'vitest'
import {
  collectSecretValues,
  createRedactor,
  envSecretValues,
  type RedactedError,
} from '../../src/redact/index.ts'
import { Secret } from '../../src/secrets/secret.ts'
import { randomSecret } from './redact-helpers.ts'

const tail = (s: string): string => `…${s.slice(-4)}`

describe('redactor: structures', () => {
  const secret = `tst_${randomSecret(24)}`
  const r = createRedactor({ secrets: [secret] })

  it('redacts nested objects and arrays, keys included, without mutating the input', () => {
    const input = { a: [{ b: `x ${secret}` }, secret], [secret]: 1, n: 2, t: true, z: null }
    const before = JSON.stringify(input)
    const out = r.redact(input)
    expect(out).toEqual({
      a: [{ b: `x ${tail(secret)}` }, tail(secret)],
      [tail(secret)]: 1,
      n: 2,
      t: true,
      z: null,
    })
    expect(JSON.stringify(input)).toBe(before)
  })

  it('turns errors into plain objects: message, stack, cause chain and own properties redacted', () => {
    const root = new TypeError(`root ${secret}`)
    const err = new Error(`top ${secret}`, { cause: root }) as Error & {
      code: string
      extra: unknown
    }
    err.code = `E_${secret}`
    err.extra = { token: secret }
    const out = r.redact(err) as RedactedError
    expect(out.name).toBe('Error')
    expect(out.message).toBe(`top ${tail(secret)}`)
    expect(out.stack).toContain(`top ${tail(secret)}`)
    expect(out.code).toBe(`E_${tail(secret)}`)
    expect((out.cause as RedactedError).name).toBe('TypeError')
    expect((out.cause as RedactedError).message).toBe(`root ${tail(secret)}`)
    expect(JSON.stringify(out)).not.toContain(secret.slice(4, 20))
    expect(err.message).toBe(`top ${secret}`)
  })

  it('drops stacks when asked', () => {
    const quiet = createRedactor({ secrets: [secret], stacks: false })
    const out = quiet.redactError(new Error(secret, { cause: new Error('inner') }))
    expect(out).toEqual({
      name: 'Error',
      message: tail(secret),
      cause: { name: 'Error', message: 'inner' },
    })
  })

  it('redacts AggregateError.errors', () => {
    const agg = new AggregateError([new Error(secret), `plain ${secret}`], `many ${secret}`)
    const out = createRedactor({ secrets: [secret], stacks: false }).redact(agg)
    expect(out).toEqual({
      name: 'AggregateError',
      message: `many ${tail(secret)}`,
      errors: [{ name: 'Error', message: tail(secret) }, `plain ${tail(secret)}`],
    })
  })

  it('redacts non-Error thrown values with redactError', () => {
    expect(r.redactError(`boom ${secret}`)).toEqual({
      name: 'NonError',
      message: `boom ${tail(secret)}`,
    })
    expect(r.redactError(42)).toEqual({ name: 'NonError', message: 'number' })
  })

  it('redacts Map and Set, masking sensitive Map keys', () => {
    const map = new Map<unknown, unknown>([
      ['k', secret],
      [secret, 'v'],
      ['Authorization', 'Bearer abc'],
    ])
    expect(r.redact(map)).toEqual({
      k: tail(secret),
      [tail(secret)]: 'v',
      Authorization: '[REDACTED]',
    })
    const objectKeys = new Map<unknown, unknown>([[{ id: secret }, secret]])
    expect(r.redact(objectKeys)).toEqual([[{ id: tail(secret) }, tail(secret)]])
    expect(r.redact(new Set([secret, 'ok']))).toEqual([tail(secret), 'ok'])
  })

  it('shows [Circular] for cycles, and shared references in full', () => {
    const shared = { v: secret }
    const a: Record<string, unknown> = { shared, again: shared }
    a.self = a
    const list: unknown[] = [a]
    list.push(list)
    expect(r.redact(list)).toEqual([
      { shared: { v: tail(secret) }, again: { v: tail(secret) }, self: '[Circular]' },
      '[Circular]',
    ])
    const err = new Error('loop') as Error & { cause?: unknown }
    err.cause = err
    expect((createRedactor({ stacks: false }).redact(err) as RedactedError).cause).toBe(
      '[Circular]'
    )
  })

  it('bounds depth, node count and string length', () => {
    let deep: Record<string, unknown> = { leaf: secret }
    for (let i = 0; i < 50; i++) deep = { next: deep }
    const limited = createRedactor({ secrets: [secret], maxDepth: 3 })
    expect(limited.redact(deep)).toEqual({ next: { next: { next: { next: '[MaxDepth]' } } } })

    const wide = Array.from({ length: 100 }, (_, i) => i)
    const few = createRedactor({ maxNodes: 10 }).redact(wide) as unknown[]
    expect(few).toHaveLength(10)
    expect(few.at(-1)).toBe('…[truncated 91 items]')

    const short = createRedactor({ secrets: [secret], maxStringLength: 100 })
    const text = `${'a'.repeat(90)}${secret}${'b'.repeat(1000)}`
    const cut = short.redactString(text)
    expect(cut).toBe(`${'a'.repeat(90)}${tail(secret)}…[truncated 1000 chars]`)
    expect(short.redactString('c'.repeat(150))).toBe(`${'c'.repeat(100)}…[truncated 50 chars]`)
  })

  it('never leaks a secret cut by truncation', () => {
    const short = createRedactor({ secrets: [secret], maxStringLength: 20 })
    for (let at = 0; at < 30; at++) {
      const out = short.redactString(`${'x'.repeat(at)}${secret}${'y'.repeat(40)}`)
      expect(out, String(at)).not.toContain(secret.slice(0, 5))
      expect(out, String(at)).not.toMatch(new RegExp(secret.slice(4, 9)))
    }
  })

  it('redacts Headers instances, masking sensitive names case-insensitively', () => {
    const headers = new Headers({
      Authorization: 'Bearer abc',
      'Proxy-Authorization': 'Basic abc',
      'X-Api-Key': 'k',
      Cookie: 'a=b',
      'x-trace': `t-${secret}`,
      accept: 'application/json',
    })
    expect(r.redact(headers)).toEqual({
      authorization: '[REDACTED]',
      'proxy-authorization': '[REDACTED]',
      'x-api-key': '[REDACTED]',
      cookie: '[REDACTED]',
      'x-trace': `t-${tail(secret)}`,
      accept: 'application/json',
    })
  })

  it('masks sensitive header names in plain header objects, plus configured ones', () => {
    const custom = createRedactor({ headers: ['X-Fyers-Token'] })
    expect(
      custom.redact({
        headers: { AUTHORIZATION: 'x', 'set-cookie': ['a', 'b'], 'x-fyers-token': 'y', ok: 'z' },
      })
    ).toEqual({
      headers: {
        AUTHORIZATION: '[REDACTED]',
        'set-cookie': '[REDACTED]',
        'x-fyers-token': '[REDACTED]',
        ok: 'z',
      },
    })
  })

  it('redacts URL objects: userinfo and sensitive query values masked, secrets replaced', () => {
    const url = new URL(
      `https://user:pw@example.test/a/${secret}?api_key=1&access_token=2&X-Amz-Signature=3&client_secret=4&password=5&page=2`
    )
    expect(r.redact(url)).toBe(
      `https://[REDACTED]@example.test/a/${tail(secret)}?api_key=[REDACTED]&access_token=[REDACTED]&X-Amz-Signature=[REDACTED]&client_secret=[REDACTED]&password=[REDACTED]&page=2`
    )
  })

  it('masks URLs found inside strings', () => {
    const text = 'GET https://bob:hunter2@h.test/x?token=abc&q=1 failed; retry with ?sig=zz#frag' // secretlint-disable-line -- test fixture: fake userinfo the redactor must mask
    expect(createRedactor().redactString(text)).toBe(
      'GET https://[REDACTED]@h.test/x?token=[REDACTED]&q=1 failed; retry with ?sig=[REDACTED]#frag'
    )
  })

  it('masks header lines, JSON members with sensitive names and bearer credentials in text', () => {
    const red = createRedactor()
    expect(red.redactString('POST /v1\nAuthorization: Bearer a1b2c3d4e5\nAccept: */*')).toBe(
      'POST /v1\nAuthorization: [REDACTED]\nAccept: */*'
    )
    expect(red.redactString('{"x-api-key":"k-123","model":"m"}')).toBe(
      '{"x-api-key":"[REDACTED]","model":"m"}'
    )
    expect(red.redactString('sent bearer a1b2c3d4e5f6 upstream')).toBe(
      'sent bearer [REDACTED] upstream'
    )
  })

  it('redacts URLSearchParams, Request and Response', () => {
    expect(r.redact(new URLSearchParams({ api_key: 'x', q: secret }))).toEqual({
      api_key: '[REDACTED]',
      q: tail(secret),
    })
    const req = new Request(`https://h.test/p?key=${secret}`, {
      method: 'POST',
      headers: { 'x-api-key': 'k' },
    })
    expect(r.redact(req)).toEqual({
      method: 'POST',
      url: 'https://h.test/p?key=[REDACTED]',
      headers: { 'x-api-key': '[REDACTED]' },
    })
    const res = new Response('body', { status: 401, headers: { 'set-cookie': 'a=b' } })
    expect(r.redact(res)).toMatchObject({ status: 401, headers: { 'set-cookie': '[REDACTED]' } })
  })

  it('summarizes binary data, dates, bigints, symbols and functions', () => {
    expect(
      r.redact({
        bytes: new TextEncoder().encode(secret),
        when: new Date(0),
        big: 10n,
        sym: Symbol(secret),
        fn: function named() {},
      })
    ).toEqual({
      bytes: `[Uint8Array byteLength=${secret.length}]`,
      when: '1970-01-01T00:00:00.000Z',
      big: '10',
      sym: `Symbol(${tail(secret)})`,
      fn: '[Function named]',
    })
  })

  it('redacts boxed strings whole instead of splitting them into characters', () => {
    expect(r.redact({ boxed: new String(secret), n: Object(1), b: Object(true) })).toEqual({
      boxed: tail(secret),
      n: 1,
      b: true,
    })
  })

  it('uses toJSON, so a Secret shows its info only', () => {
    const thing = { toJSON: () => ({ shown: secret }) }
    expect(r.redact(thing)).toEqual({ shown: tail(secret) })
  })

  it('never throws on hostile input: throwing getters, proxies, revoked proxies, throwing toJSON', () => {
    const getter = Object.defineProperty({ ok: 1 }, 'bad', {
      enumerable: true,
      get() {
        throw new Error(secret)
      },
    })
    expect(r.redact(getter)).toEqual({ ok: 1, bad: '[UNREDACTABLE]' })
    const trap = new Proxy(
      {},
      {
        ownKeys() {
          throw new Error(secret)
        },
      }
    )
    expect(r.redact({ trap })).toEqual({ trap: '[UNREDACTABLE]' })
    const { proxy, revoke } = Proxy.revocable({}, {})
    revoke()
    expect(r.redact([proxy])).toEqual(['[UNREDACTABLE]'])
    expect(
      r.redact({
        toJSON: () => {
          throw new Error(secret)
        },
      })
    ).toBe('[UNREDACTABLE]')
    const evilError = new Error('x')
    Object.defineProperty(evilError, 'message', {
      get: () => {
        throw new Error(secret)
      },
    })
    expect(r.redactError(evilError).message).toBe('[UNREDACTABLE]')
    expect(JSON.stringify(r.redact({ getter, trap, proxy }))).not.toContain(secret)
  })

  it('keeps __proto__ keys as data', () => {
    const input = JSON.parse(`{"__proto__": {"polluted": "${secret}"}}`)
    const out = r.redact(input) as Record<string, unknown>
    expect(Object.getPrototypeOf(out)).toBe(Object.prototype)
    expect(Object.keys(out)).toEqual(['__proto__'])
    expect(({} as Record<string, unknown>).polluted).toBeUndefined()
  })

  it('swaps secrets per request and caches compiled sets', () => {
    const base = createRedactor({ cacheSize: 2 })
    const other = `tst_${randomSecret(24)}`
    expect(base.secretCount).toBe(0)
    expect(base.withSecrets([secret]).redactString(secret)).toBe(tail(secret))
    expect(base.withSecrets([other, undefined, '']).redactString(`${secret} ${other}`)).toBe(
      `${secret} ${tail(other)}`
    )
    expect(base.withSecrets([{ reveal: () => other }]).secretCount).toBe(1)
  })
  it('collects every Secret value from a snapshot-like tree, next slots included', () => {
    const info = { provider: 'p', credential: 'c', source: 'env:X', generation: 1 } as const
    const current = new Secret(secret, { ...info, slot: 'current' })
    const staged = `tst_${randomSecret(20)}`
    const snapshot = {
      p: {
        credentials: {
          c: { current, next: new Secret(staged, { ...info, slot: 'next' }), issues: [] },
        },
      },
      q: { credentials: { d: { issues: [] } } },
    }
    expect(collectSecretValues(snapshot).sort()).toEqual([secret, staged].sort())
    expect(r.redact({ current })).toEqual({
      current: { ...info, slot: 'current', fingerprint: tail(secret) },
    })
  })
  it('collects credential-looking environment values, skipping _FILE paths and settings', () => {
    const admin = randomSecret(20)
    const env = {
      ANTHROPIC_API_KEY: secret,
      KEYLINE_ADMIN_TOKEN: admin,
      FYERS_ACCESS_TOKEN_NEXT: 'n1',
      ANTHROPIC_API_KEY_FILE: '/run/secrets/key',
      ANTHROPIC_BASE_URL: 'https://api.example.test',
      LOG_LEVEL: 'info',
      MONKEY: 'banana',
      EMPTY_TOKEN: '',
    }
    expect(envSecretValues(env).sort()).toEqual([secret, admin, 'n1'].sort())
  })
})

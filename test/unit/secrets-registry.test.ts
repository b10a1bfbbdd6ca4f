import { describe, expect, it } from 'vitest'
import type { FileReader } from '../../src/secrets/read-value.ts'
import { SecretRegistry } from '../../src/secrets/registry.ts'
import type { Secret } from '../../src/secrets/secret.ts'

const newValue = (): string => `sk-test-${crypto.randomUUID()}`

/** An in-memory file system for `_FILE` secrets, counting reads. */
const fakeFiles = (initial: Record<string, string> = {}) => {
  const files = new Map(Object.entries(initial))
  const reads: string[] = []
  const readFile: FileReader = async (path) => {
    reads.push(path)
    const text = files.get(path)
    if (text === undefined) throw new Error(`ENOENT: ${path}`)
    return text
  }
  return { files, reads, readFile }
}

/** A clock the test moves by hand. */
const manualClock = (start = 1_000_000) => {
  let now = start
  return {
    now: () => now,
    advance: (ms: number): void => {
      now += ms
    },
  }
}

describe('aliases', () => {
  it('CLAUDE_API_KEY alone configures Anthropic, with its source', async () => {
    const value = newValue()
    const snapshot = await new SecretRegistry().resolveProvider(
      { CLAUDE_API_KEY: value },
      'anthropic'
    )
    expect(snapshot.configured).toBe(true)
    expect(snapshot.credentials.apiKey.current?.source).toBe('env:CLAUDE_API_KEY')
    expect(snapshot.credentials.apiKey.current?.reveal()).toBe(value)
    expect(snapshot.issues).toEqual([])
  })

  it('both set and different: the canonical variable wins, the conflict is an issue', async () => {
    const canonical = newValue()
    const alias = newValue()
    const snapshot = await new SecretRegistry().resolveProvider(
      { ANTHROPIC_API_KEY: canonical, CLAUDE_API_KEY: alias },
      'anthropic'
    )
    expect(snapshot.configured).toBe(true)
    expect(snapshot.credentials.apiKey.current?.source).toBe('env:ANTHROPIC_API_KEY')
    expect(snapshot.credentials.apiKey.current?.reveal()).toBe(canonical)
    expect(snapshot.issues).toEqual([
      expect.objectContaining({
        reason: 'alias_conflict',
        variable: 'CLAUDE_API_KEY',
        blocking: false,
      }),
    ])
    const message = snapshot.issues[0]?.message ?? ''
    expect(message).toContain('ANTHROPIC_API_KEY')
    expect(message).not.toContain(canonical)
    expect(message).not.toContain(alias)
  })

  it('both set to the same value: no conflict', async () => {
    const value = newValue()
    const snapshot = await new SecretRegistry().resolveProvider(
      { ANTHROPIC_API_KEY: value, CLAUDE_API_KEY: value },
      'anthropic'
    )
    expect(snapshot.credentials.apiKey.current?.source).toBe('env:ANTHROPIC_API_KEY')
    expect(snapshot.issues).toEqual([])
  })
})

describe('missing credentials', () => {
  it('names every variable that would configure the credential', async () => {
    const registry = new SecretRegistry()
    const anthropic = await registry.resolveProvider({}, 'anthropic')
    expect(anthropic.configured).toBe(false)
    expect(anthropic.issues).toEqual([
      expect.objectContaining({ reason: 'missing', variable: 'ANTHROPIC_API_KEY', blocking: true }),
    ])
    expect(anthropic.issues[0]?.message).toMatch(/ANTHROPIC_API_KEY or CLAUDE_API_KEY/)

    const fyers = await registry.resolveProvider({ FYERS_CLIENT_ID: 'ABCD1234-100' }, 'fyers')
    expect(fyers.configured).toBe(false)
    expect(fyers.issues.map((issue) => issue.variable)).toEqual(['FYERS_ACCESS_TOKEN'])
  })

  it('ignores bindings that are not strings (KV namespaces, JSON vars)', async () => {
    const snapshot = await new SecretRegistry().resolveProvider(
      {
        ANTHROPIC_API_KEY: { get: () => 'x', put: () => undefined, list: () => [] },
        CLAUDE_API_KEY: 42,
      },
      'anthropic'
    )
    expect(snapshot.configured).toBe(false)
  })
})

describe('next values (*_NEW)', () => {
  it('ANTHROPIC_API_KEY_NEW fills the next slot beside the current one', async () => {
    const current = newValue()
    const next = newValue()
    const snapshot = await new SecretRegistry().resolveProvider(
      { ANTHROPIC_API_KEY: current, ANTHROPIC_API_KEY_NEW: next },
      'anthropic'
    )
    const state = snapshot.credentials.apiKey
    expect(state.current?.reveal()).toBe(current)
    expect(state.current?.slot).toBe('current')
    expect(state.next?.reveal()).toBe(next)
    expect(state.next?.slot).toBe('next')
    expect(state.next?.source).toBe('env:ANTHROPIC_API_KEY_NEW')
    expect(state.next?.generation).not.toBe(state.current?.generation)
  })

  it('a next value alone does not configure the provider', async () => {
    const snapshot = await new SecretRegistry().resolveProvider(
      { ANTHROPIC_API_KEY_NEW: newValue() },
      'anthropic'
    )
    expect(snapshot.configured).toBe(false)
    expect(snapshot.credentials.apiKey.next).toBeDefined()
  })

  it('FYERS_ACCESS_TOKEN_NEW fills the access token next slot; a placeholder one is an issue', async () => {
    const registry = new SecretRegistry()
    const env = { FYERS_CLIENT_ID: 'ABCD1234-100', FYERS_ACCESS_TOKEN: newValue() }
    const next = newValue()
    const ok = await registry.resolveProvider({ ...env, FYERS_ACCESS_TOKEN_NEW: next }, 'fyers')
    expect(ok.credentials.accessToken.next?.reveal()).toBe(next)
    const placeholder = await registry.resolveProvider(
      { ...env, FYERS_ACCESS_TOKEN_NEW: 'changeme' },
      'fyers'
    )
    expect(placeholder.configured).toBe(true)
    expect(placeholder.credentials.accessToken.next).toBeUndefined()
    expect(placeholder.issues).toEqual([
      expect.objectContaining({ reason: 'placeholder', variable: 'FYERS_ACCESS_TOKEN_NEW' }),
    ])
  })
})

describe('generations', () => {
  it('stay the same while values are unchanged and change when a value changes', async () => {
    const registry = new SecretRegistry()
    const first = newValue()
    const a = await registry.resolveProvider({ ANTHROPIC_API_KEY: first }, 'anthropic')
    const b = await registry.resolveProvider({ ANTHROPIC_API_KEY: first }, 'anthropic')
    expect(b.generation).toBe(a.generation)
    expect(b.credentials.apiKey.current).toBe(a.credentials.apiKey.current)

    const c = await registry.resolveProvider({ ANTHROPIC_API_KEY: newValue() }, 'anthropic')
    expect(c.generation).not.toBe(a.generation)
    expect(c.credentials.apiKey.current?.generation).not.toBe(
      a.credentials.apiKey.current?.generation
    )

    // Back to the first value: a change all the same, so a new generation.
    const d = await registry.resolveProvider({ ANTHROPIC_API_KEY: first }, 'anthropic')
    expect(new Set([a.generation, c.generation, d.generation]).size).toBe(3)
  })

  it('change when a setting changes, not when only the next value or another provider does', async () => {
    const registry = new SecretRegistry()
    const env = { ANTHROPIC_API_KEY: newValue() }
    const a = await registry.resolveProvider(env, 'anthropic')
    const withNext = await registry.resolveProvider(
      { ...env, ANTHROPIC_API_KEY_NEW: newValue(), FYERS_ACCESS_TOKEN: newValue() },
      'anthropic'
    )
    expect(withNext.generation).toBe(a.generation)
    const moved = await registry.resolveProvider(
      { ...env, ANTHROPIC_BASE_URL: 'http://127.0.0.1:9/' },
      'anthropic'
    )
    expect(moved.generation).not.toBe(a.generation)
  })

  it('keep the generation when the same value moves to another variable', async () => {
    const registry = new SecretRegistry()
    const value = newValue()
    const a = await registry.resolveProvider({ ANTHROPIC_API_KEY: value }, 'anthropic')
    const b = await registry.resolveProvider({ CLAUDE_API_KEY: value }, 'anthropic')
    expect(b.credentials.apiKey.current?.source).toBe('env:CLAUDE_API_KEY')
    expect(b.credentials.apiKey.current?.generation).toBe(a.credentials.apiKey.current?.generation)
    expect(b.generation).toBe(a.generation)
  })

  it('are tracked per registry and per provider', async () => {
    const registry = new SecretRegistry()
    const env = {
      ANTHROPIC_API_KEY: newValue(),
      FYERS_CLIENT_ID: 'ABCD1234-100',
      FYERS_ACCESS_TOKEN: newValue(),
    }
    const first = await registry.resolve(env)
    const second = await registry.resolve({ ...env, FYERS_ACCESS_TOKEN: newValue() })
    expect(second.anthropic.generation).toBe(first.anthropic.generation)
    expect(second.fyers.generation).not.toBe(first.fyers.generation)
  })
})

describe('_FILE secrets', () => {
  it('reads <NAME>_FILE through readFile, trimmed, with a file: source', async () => {
    const value = newValue()
    const { readFile } = fakeFiles({ '/run/secrets/anthropic': `${value}\n` })
    const snapshot = await new SecretRegistry({ readFile }).resolveProvider(
      { ANTHROPIC_API_KEY_FILE: ' /run/secrets/anthropic ' },
      'anthropic'
    )
    expect(snapshot.configured).toBe(true)
    expect(snapshot.credentials.apiKey.current?.reveal()).toBe(value)
    expect(snapshot.credentials.apiKey.current?.source).toBe('file:/run/secrets/anthropic')
  })

  it('prefers the variable itself over its _FILE form', async () => {
    const direct = newValue()
    const { readFile } = fakeFiles({ '/f': newValue() })
    const snapshot = await new SecretRegistry({ readFile }).resolveProvider(
      { ANTHROPIC_API_KEY: direct, ANTHROPIC_API_KEY_FILE: '/f' },
      'anthropic'
    )
    expect(snapshot.credentials.apiKey.current?.reveal()).toBe(direct)
  })

  it('caches a file for fileCacheMs, re-reads it after, and reload() drops the cache', async () => {
    const clock = manualClock()
    const fs = fakeFiles({ '/k': newValue() })
    const registry = new SecretRegistry({
      readFile: fs.readFile,
      fileCacheMs: 5_000,
      now: clock.now,
    })
    const env = { ANTHROPIC_API_KEY_FILE: '/k' }

    const a = await registry.resolveProvider(env, 'anthropic')
    await registry.resolveProvider(env, 'anthropic')
    expect(fs.reads).toEqual(['/k'])

    const rotated = newValue()
    fs.files.set('/k', rotated)
    clock.advance(4_999)
    const cached = await registry.resolveProvider(env, 'anthropic')
    expect(cached.generation).toBe(a.generation)
    expect(fs.reads).toHaveLength(1)

    clock.advance(1)
    const expired = await registry.resolveProvider(env, 'anthropic')
    expect(fs.reads).toHaveLength(2)
    expect(expired.credentials.apiKey.current?.reveal()).toBe(rotated)
    expect(expired.generation).not.toBe(a.generation)

    const again = newValue()
    fs.files.set('/k', again)
    registry.reload()
    const reloaded = await registry.resolveProvider(env, 'anthropic')
    expect(fs.reads).toHaveLength(3)
    expect(reloaded.credentials.apiKey.current?.reveal()).toBe(again)
    expect(reloaded.generation).not.toBe(expired.generation)

    registry.reload()
    const unchanged = await registry.resolveProvider(env, 'anthropic')
    expect(fs.reads).toHaveLength(4)
    expect(unchanged.generation).toBe(reloaded.generation)
  })

  it('a read that fails after reload() does not evict the newer cached read', async () => {
    const pending: { resolve: (text: string) => void; reject: (error: Error) => void }[] = []
    let reads = 0
    const value = newValue()
    const readFile: FileReader = () => {
      reads++
      if (reads > 2) return Promise.resolve(value)
      return new Promise((resolve, reject) => pending.push({ resolve, reject }))
    }
    const registry = new SecretRegistry({ readFile })
    const env = { ANTHROPIC_API_KEY_FILE: '/k' }
    const stale = registry.resolveProvider(env, 'anthropic')
    registry.reload()
    const fresh = registry.resolveProvider(env, 'anthropic')
    await Promise.resolve()
    expect(reads).toBe(2)
    pending[1]?.resolve(value)
    pending[0]?.reject(new Error('EIO'))
    await Promise.all([stale, fresh])
    await registry.resolveProvider(env, 'anthropic')
    expect(reads).toBe(2)
  })

  it('an unreadable file is an issue naming the _FILE variable; the read is retried', async () => {
    const fs = fakeFiles()
    const registry = new SecretRegistry({ readFile: fs.readFile })
    const env = { ANTHROPIC_API_KEY_FILE: '/missing' }
    const snapshot = await registry.resolveProvider(env, 'anthropic')
    expect(snapshot.configured).toBe(false)
    expect(snapshot.issues).toContainEqual(
      expect.objectContaining({ reason: 'file_unreadable', variable: 'ANTHROPIC_API_KEY_FILE' })
    )
    expect(JSON.stringify(snapshot.issues)).not.toContain('ENOENT')

    const value = newValue()
    fs.files.set('/missing', value)
    const later = await registry.resolveProvider(env, 'anthropic')
    expect(later.credentials.apiKey.current?.reveal()).toBe(value)
  })

  it('a placeholder file is an issue; without readFile (Workers) _FILE is unsupported', async () => {
    const { readFile } = fakeFiles({ '/p': 'your-key-here\n' })
    const placeholder = await new SecretRegistry({ readFile }).resolveProvider(
      { ANTHROPIC_API_KEY_FILE: '/p' },
      'anthropic'
    )
    expect(placeholder.configured).toBe(false)
    expect(placeholder.issues).toContainEqual(
      expect.objectContaining({ reason: 'placeholder', variable: 'ANTHROPIC_API_KEY_FILE' })
    )

    const workers = await new SecretRegistry({ readFile: null }).resolveProvider(
      { ANTHROPIC_API_KEY_FILE: '/p' },
      'anthropic'
    )
    expect(workers.configured).toBe(false)
    expect(workers.issues).toContainEqual(
      expect.objectContaining({ reason: 'file_unsupported', variable: 'ANTHROPIC_API_KEY_FILE' })
    )
  })

  it('rejects a negative or non-finite fileCacheMs', () => {
    expect(() => new SecretRegistry({ fileCacheMs: -1 })).toThrow(TypeError)
    expect(() => new SecretRegistry({ fileCacheMs: Number.NaN })).toThrow(TypeError)
  })
})

describe('base URL settings', () => {
  it('default to the provider API and drop trailing slashes', async () => {
    const registry = new SecretRegistry()
    const env = { ANTHROPIC_API_KEY: newValue() }
    expect((await registry.resolveProvider(env, 'anthropic')).settings.baseUrl).toBe(
      'https://api.anthropic.com'
    )
    const custom = await registry.resolveProvider(
      { ...env, ANTHROPIC_BASE_URL: 'http://127.0.0.1:8080/proxy//' },
      'anthropic'
    )
    expect(custom.configured).toBe(true)
    expect(custom.settings.baseUrl).toBe('http://127.0.0.1:8080/proxy')
  })

  it.each([
    'not a url',
    'ftp://example.com',
    'api.anthropic.com',
    'https://user:pass@example.com', // secretlint-disable-line -- test fixture: fake userinfo the redactor must mask
    'javascript:alert(1)',
    'https://api.anthropic.com#',
    'https://api.anthropic.com/?beta=1',
    'https://api.anthropic.com?',
  ])('an invalid ANTHROPIC_BASE_URL (%s) leaves the provider unconfigured', async (url) => {
    const snapshot = await new SecretRegistry().resolveProvider(
      { ANTHROPIC_API_KEY: newValue(), ANTHROPIC_BASE_URL: url },
      'anthropic'
    )
    expect(snapshot.configured).toBe(false)
    expect(snapshot.issues).toEqual([
      expect.objectContaining({
        reason: 'invalid_url',
        variable: 'ANTHROPIC_BASE_URL',
        blocking: true,
      }),
    ])
    expect(snapshot.issues[0]?.message).not.toContain('pass')
  })

  it('an invalid FYERS_BASE_URL leaves Fyers unconfigured', async () => {
    const snapshot = await new SecretRegistry().resolveProvider(
      { FYERS_CLIENT_ID: 'ABCD1234-100', FYERS_ACCESS_TOKEN: newValue(), FYERS_BASE_URL: 'nope' },
      'fyers'
    )
    expect(snapshot.configured).toBe(false)
    expect(snapshot.issues.map((issue) => issue.reason)).toEqual(['invalid_url'])
  })
})

describe('promote() twice before the binding changes', () => {
  it('keeps the second promoted value current, until the binding itself changes', async () => {
    const registry = new SecretRegistry()
    const [a, b, c] = [1, 2, 3].map(() => `sk-test-${crypto.randomUUID()}`) as [
      string,
      string,
      string,
    ]
    const first = await registry.resolveProvider(
      { ANTHROPIC_API_KEY: a, ANTHROPIC_API_KEY_NEW: b },
      'anthropic'
    )
    registry.promote(first.credentials.apiKey.next as Secret, first.credentials.apiKey.current)
    const second = await registry.resolveProvider(
      { ANTHROPIC_API_KEY: a, ANTHROPIC_API_KEY_NEW: c },
      'anthropic'
    )
    expect(second.credentials.apiKey.current?.reveal()).toBe(b)
    registry.promote(second.credentials.apiKey.next as Secret, second.credentials.apiKey.current)
    const third = await registry.resolveProvider(
      { ANTHROPIC_API_KEY: a, ANTHROPIC_API_KEY_NEW: c },
      'anthropic'
    )
    expect(third.credentials.apiKey.current?.reveal()).toBe(c)
    const updated = await registry.resolveProvider({ ANTHROPIC_API_KEY: c }, 'anthropic')
    expect(updated.credentials.apiKey.current?.source).toBe('env:ANTHROPIC_API_KEY')
  })
})

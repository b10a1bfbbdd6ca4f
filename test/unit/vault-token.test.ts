import { describe, expect, it } from 'vitest'
import { memoryStore } from '../../src/store/memory-store.ts'
import type { SharedStore } from '../../src/store/shared-store.ts'
import { Fernet } from '../../src/vault/fernet.ts'
import {
  NO_VAULT_KEY_REASON,
  TokenVault,
  type VaultWarning,
  vaultFromEnv,
} from '../../src/vault/token-vault.ts'
import { expectNoPlaintext, fakeAccessToken } from '../support/no-plaintext.ts'

const PREFIX = 'keyline:vault:'

const setup = (old: string[] = []) => {
  const store = memoryStore()
  const warnings: VaultWarning[] = []
  const current = Fernet.generateKey()
  const vault = new TokenVault({
    store,
    keys: { current, old },
    onWarning: (w) => warnings.push(w),
  })
  return { store, vault, warnings, current }
}

describe('TokenVault', () => {
  it('stores only a Fernet token of the value, under keyline:vault:<name>', async () => {
    const { store, vault, current } = setup()
    const token = fakeAccessToken()
    await vault.set('fyers.access_token', token)
    const raw = (await store.get(`${PREFIX}fyers.access_token`)) as string
    expect(raw).toMatch(/^gAAAAA[A-Za-z0-9_-]+=*$/)
    expectNoPlaintext(raw, token)
    expect(new TextDecoder().decode(await new Fernet(current).decrypt(raw))).toBe(token)
    expect(await vault.get('fyers.access_token')).toBe(token)
    await vault.delete('fyers.access_token')
    expect(await vault.get('fyers.access_token')).toBeUndefined()
    expect(await store.get(`${PREFIX}fyers.access_token`)).toBeNull()
  })

  it('honours a custom prefix', async () => {
    const store = memoryStore()
    const vault = new TokenVault({ store, keys: { current: Fernet.generateKey() }, prefix: 'app/' })
    await vault.set('t', 'value')
    expect(await store.get('app/t')).toMatch(/^gAAAAA/)
  })

  it('reads a record under an old key and writes it back under the current key', async () => {
    const oldKey = Fernet.generateKey()
    const { store, vault, current, warnings } = setup([Fernet.generateKey(), oldKey])
    const legacy = await new Fernet(oldKey).encrypt('old-token-value')
    await store.put(`${PREFIX}fyers.refresh_token`, legacy)
    expect(await vault.get('fyers.refresh_token')).toBe('old-token-value')
    const rewritten = (await store.get(`${PREFIX}fyers.refresh_token`)) as string
    expect(rewritten).not.toBe(legacy)
    expect(new TextDecoder().decode(await new Fernet(current).decrypt(rewritten))).toBe(
      'old-token-value'
    )
    expect(warnings).toEqual([])
  })

  it('reads a corrupt or foreign record as undefined and reports it without the value', async () => {
    const { store, vault, warnings } = setup()
    const foreign = await new Fernet(Fernet.generateKey()).encrypt('someone-elses-token')
    await store.put(`${PREFIX}a`, foreign)
    await store.put(`${PREFIX}b`, 'not a fernet token at all')
    expect(await vault.get('a')).toBeUndefined()
    expect(await vault.get('b')).toBeUndefined()
    expect(warnings).toEqual([
      { name: 'a', reason: 'undecryptable' },
      { name: 'b', reason: 'undecryptable' },
    ])
    expect(JSON.stringify(warnings)).not.toContain('someone')
  })

  it('reads as undefined when the store fails, and still returns a value whose rewrite fails', async () => {
    const oldKey = Fernet.generateKey()
    const inner = memoryStore()
    let failGets = true
    const flaky: SharedStore = {
      ...inner,
      get: (key) => (failGets ? Promise.reject(new Error('store down')) : inner.get(key)),
      put: () => Promise.reject(new Error('read-only')),
    }
    const warnings: VaultWarning[] = []
    const vault = new TokenVault({
      store: flaky,
      keys: { current: Fernet.generateKey(), old: [oldKey] },
      onWarning: (w) => warnings.push(w),
    })
    expect(await vault.get('x')).toBeUndefined()
    failGets = false
    await inner.put(`${PREFIX}x`, await new Fernet(oldKey).encrypt('v'))
    expect(await vault.get('x')).toBe('v')
    await expect(vault.set('x', 'w')).rejects.toThrow('read-only')
    expect(warnings).toEqual([
      { name: 'x', reason: 'store-error', error: 'store down' },
      { name: 'x', reason: 'rewrite-failed', error: 'read-only' },
    ])
  })
})

describe('vaultFromEnv', () => {
  it('without KEYLINE_VAULT_KEY there is no vault and the reason says so', () => {
    expect(vaultFromEnv({}, memoryStore())).toEqual({ reason: NO_VAULT_KEY_REASON })
    expect(vaultFromEnv({ KEYLINE_VAULT_KEY: ' ' }, memoryStore())).toEqual({
      reason: 'KEYLINE_VAULT_KEY is not set: tokens are not persisted',
    })
  })

  it('a bad key gives a reason naming the variable, never the value', () => {
    const bad = 'this-is-not-a-fernet-key-value'
    const current = vaultFromEnv({ KEYLINE_VAULT_KEY: bad }, memoryStore())
    expect(current.vault).toBeUndefined()
    expect(current.reason).toContain('KEYLINE_VAULT_KEY')
    expect(current.reason).not.toContain(bad)
    const old = vaultFromEnv(
      {
        KEYLINE_VAULT_KEY: Fernet.generateKey(),
        KEYLINE_VAULT_KEY_OLD: `${Fernet.generateKey()},${bad}`,
      },
      memoryStore()
    )
    expect(old.vault).toBeUndefined()
    expect(old.reason).toContain('KEYLINE_VAULT_KEY_OLD entry 2')
    expect(old.reason).not.toContain(bad)
  })

  it('KEYLINE_VAULT_KEY encrypts, KEYLINE_VAULT_KEY_OLD (comma-separated) still decrypts', async () => {
    const store = memoryStore()
    const [k1, k2, k3] = [Fernet.generateKey(), Fernet.generateKey(), Fernet.generateKey()]
    await vaultFromEnv({ KEYLINE_VAULT_KEY: k1 }, store).vault?.set('t', 'one')
    await vaultFromEnv({ KEYLINE_VAULT_KEY: k2 }, store).vault?.set('u', 'two')
    const rotated = vaultFromEnv(
      { KEYLINE_VAULT_KEY: k3, KEYLINE_VAULT_KEY_OLD: ` ${k2} , ${k1} ` },
      store
    )
    expect(await rotated.vault?.get('t')).toBe('one')
    expect(await rotated.vault?.get('u')).toBe('two')
    // Both records now open with the new key alone.
    const only = vaultFromEnv({ KEYLINE_VAULT_KEY: k3 }, store).vault
    expect(await only?.get('t')).toBe('one')
    expect(await only?.get('u')).toBe('two')
  })

  it('returns the same vault while the key text is unchanged (nothing re-parsed per request)', () => {
    const store = memoryStore()
    const env = { KEYLINE_VAULT_KEY: Fernet.generateKey() }
    const first = vaultFromEnv(env, store)
    expect(vaultFromEnv({ ...env }, store).vault).toBe(first.vault)
    expect(vaultFromEnv({ KEYLINE_VAULT_KEY: Fernet.generateKey() }, store).vault).not.toBe(
      first.vault
    )
    expect(vaultFromEnv(env, memoryStore()).vault).not.toBe(first.vault)
  })
})

/**
 * Workers KV, in real workerd: the `KEYLINE_KV` namespace of wrangler.toml, as miniflare binds it.
 * Runs only in the `workerd` vitest project.
 */
import { env } from 'cloudflare:workers'
import { describe, expect, it } from 'vitest'
import { type KvNamespaceLike, kvStore, kvStoreFromEnv } from '../../src/store/kv-store.ts'
import { Fernet } from '../../src/vault/fernet.ts'
import { TokenVault, vaultFromEnv } from '../../src/vault/token-vault.ts'
import { expectNoPlaintext, fakeAccessToken } from '../support/no-plaintext.ts'
import { sharedStoreContract } from '../support/shared-store-contract.ts'

const kv = env.KEYLINE_KV as KvNamespaceLike & { get(key: string): Promise<string | null> }

sharedStoreContract(
  'kv (two stores on one binding)',
  async () => ({ a: kvStore(kv), b: kvStore(kv) }),
  { atomicLock: false }
)

describe('kvStore', () => {
  it('kvStoreFromEnv finds KEYLINE_KV, once per binding; none without it', () => {
    const store = kvStoreFromEnv(env)
    expect(store?.kind).toBe('kv')
    expect(kvStoreFromEnv(env)).toBe(store)
    expect(kvStoreFromEnv({})).toBeUndefined()
    expect(kvStoreFromEnv({ KEYLINE_KV: 'not a binding' })).toBeUndefined()
  })

  it('keeps values as they are: what KV holds is exactly what was put', async () => {
    const store = kvStore(kv)
    const key = `raw:${crypto.randomUUID()}`
    await store.put(key, 'exact text', { ttlSeconds: 5 })
    expect(await kv.get(key)).toBe('exact text')
  })

  it('the vault at rest: KV holds only a Fernet token, never the plaintext', async () => {
    const { vault } = vaultFromEnv({ KEYLINE_VAULT_KEY: Fernet.generateKey() }, kvStore(kv))
    expect(vault).toBeInstanceOf(TokenVault)
    const token = fakeAccessToken()
    await vault?.set('fyers.access_token', token)
    const raw = (await kv.get('keyline:vault:fyers.access_token')) ?? ''
    expect(raw).toMatch(/^gAAAAA[A-Za-z0-9_-]+=*$/)
    expectNoPlaintext(raw, token)
    expect(await vault?.get('fyers.access_token')).toBe(token)
  })
})

import { mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { Redis } from 'ioredis'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { fileStore } from '../../src/store/file-store.ts'
import { redisStore } from '../../src/store/redis-store.ts'
import { sharedStoreFromEnv } from '../../src/store/server-store.ts'
import { Fernet } from '../../src/vault/fernet.ts'
import { TokenVault } from '../../src/vault/token-vault.ts'
import { expectNoPlaintext, fakeAccessToken } from '../support/no-plaintext.ts'
import { type RedisServer, startRedisServer } from '../support/redis-server.ts'
import { sharedStoreContract } from '../support/shared-store-contract.ts'

let redis: RedisServer
let dir: string
beforeAll(async () => {
  redis = await startRedisServer()
  dir = await mkdtemp(join(tmpdir(), 'keyline-store-'))
}, 30_000)
afterAll(async () => {
  await redis?.stop()
  await rm(dir, { recursive: true, force: true })
})

sharedStoreContract(
  'file',
  async () => {
    const store = fileStore(join(dir, `${crypto.randomUUID()}.json`))
    return { a: store, b: store }
  },
  { atomicLock: true }
)

sharedStoreContract(
  'redis (two connections)',
  async () => {
    const [a, b] = [redisStore(redis.url), redisStore(redis.url)]
    return { a, b, close: async () => void (await Promise.all([a.close(), b.close()])) }
  },
  { atomicLock: true }
)

describe('fileStore', () => {
  it('writes one JSON file, mode 0600, that a new instance (a restart) reads back', async () => {
    const path = join(dir, 'nested', 'vault.json')
    const store = fileStore(path)
    await store.put('keep', 'kept')
    await store.put('gone', 'soon', { ttlSeconds: 60 })
    expect((await stat(path)).mode & 0o777).toBe(0o600)
    const restarted = fileStore(path)
    expect(await restarted.get('keep')).toBe('kept')
    expect(await restarted.get('gone')).toBe('soon')
    expect(JSON.parse(await readFile(path, 'utf8')).keep.v).toBe('kept')
  })

  it('serialises concurrent writes: none is lost', async () => {
    const path = join(dir, 'concurrent.json')
    const store = fileStore(path)
    await Promise.all(Array.from({ length: 20 }, (_, i) => store.put(`k${i}`, `v${i}`)))
    const restarted = fileStore(path)
    for (let i = 0; i < 20; i++) expect(await restarted.get(`k${i}`)).toBe(`v${i}`)
  })

  it('refuses to overwrite a file it cannot read', async () => {
    const path = join(dir, 'corrupt.json')
    await writeFile(path, 'not json')
    const store = fileStore(path)
    await expect(store.get('x')).rejects.toThrow()
    await expect(store.put('x', 'y')).rejects.toThrow()
    expect(await readFile(path, 'utf8')).toBe('not json')
  })
})

describe('redisStore', () => {
  it('stores plain GET/SET values with a PX expiry another client sees', async () => {
    const store = redisStore(redis.url)
    const raw = new Redis(redis.url)
    try {
      await store.put('plain', 'text', { ttlSeconds: 30 })
      expect(await raw.get('plain')).toBe('text')
      const ttl = await raw.pttl('plain')
      expect(ttl).toBeGreaterThan(25_000)
      expect(ttl).toBeLessThanOrEqual(30_000)
    } finally {
      await store.close()
      raw.disconnect()
    }
  })

  it('rejects (does not hang) when the server is gone, without the password in the message', async () => {
    const down = await startRedisServer()
    await down.stop()
    const warnings: string[] = []
    const url = `redis://user:hunter2-not-real@127.0.0.1:${down.port}`
    const store = redisStore(url, { onError: (e) => warnings.push(e.message) })
    try {
      const error = await store.get('x').then(
        () => undefined,
        (e: unknown) => e as Error
      )
      expect(error).toBeInstanceOf(Error)
      expect(String(error?.message)).not.toContain('hunter2')
      expect(warnings.join('\n')).not.toContain('hunter2')
    } finally {
      await store.close()
    }
  })
})

describe('sharedStoreFromEnv', () => {
  it('KEYLINE_REDIS_URL → redis, else KEYLINE_VAULT_FILE → file, else memory', async () => {
    const viaRedis = await sharedStoreFromEnv({
      KEYLINE_REDIS_URL: redis.url,
      KEYLINE_VAULT_FILE: join(dir, 'x.json'),
    })
    expect(viaRedis.kind).toBe('redis')
    await viaRedis.put('from-env', 'yes')
    const raw = new Redis(redis.url)
    expect(await raw.get('from-env')).toBe('yes')
    raw.disconnect()
    await viaRedis.close()

    const viaFile = await sharedStoreFromEnv({ KEYLINE_VAULT_FILE: join(dir, 'env.json') })
    expect(viaFile.kind).toBe('file')
    await viaFile.put('k', 'v')
    expect(JSON.parse(await readFile(join(dir, 'env.json'), 'utf8')).k.v).toBe('v')
    await viaFile.close()

    const memory = await sharedStoreFromEnv({ KEYLINE_VAULT_FILE: '  ' })
    expect(memory.kind).toBe('memory')
    await memory.close()
  })

  it('names the variable, never the value, for a URL that is not redis://', async () => {
    const error = await sharedStoreFromEnv({ KEYLINE_REDIS_URL: 'http://secret-host:1' }).catch(
      (e: unknown) => e as Error
    )
    expect(String((error as Error).message)).toContain('KEYLINE_REDIS_URL')
    expect(String((error as Error).message)).not.toContain('secret-host')
  })
})

describe('the vault at rest: the raw stored bytes hold no plaintext token', () => {
  it('redis: a second client GETs only a Fernet token', async () => {
    const store = redisStore(redis.url)
    const raw = new Redis(redis.url)
    try {
      const vault = new TokenVault({ store, keys: { current: Fernet.generateKey() } })
      const token = fakeAccessToken()
      await vault.set('fyers.access_token', token)
      const stored = await raw.getBuffer('keyline:vault:fyers.access_token')
      const text = stored?.toString('latin1') ?? ''
      expect(text).toMatch(/^gAAAAA[A-Za-z0-9_-]+=*$/)
      expectNoPlaintext(text, token)
      expect(await vault.get('fyers.access_token')).toBe(token)
    } finally {
      await store.close()
      raw.disconnect()
    }
  })

  it("file: the file's contents hold only a Fernet token", async () => {
    const path = join(dir, 'vault-at-rest.json')
    const vault = new TokenVault({
      store: fileStore(path),
      keys: { current: Fernet.generateKey() },
    })
    const token = fakeAccessToken()
    await vault.set('fyers.access_token', token)
    const contents = await readFile(path, 'latin1')
    expect(contents).toContain('keyline:vault:fyers.access_token')
    expectNoPlaintext(contents, token)
    expect(await vault.get('fyers.access_token')).toBe(token)
  })
})

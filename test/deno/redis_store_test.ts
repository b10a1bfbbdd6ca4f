/// <reference lib="deno.ns" />
/**
 * The Redis store on Deno (npm:ioredis through node_modules) against a real redis-server on its
 * own port: values, TTL, the lock across two connections, and the vault at rest.
 */
import assert from 'node:assert/strict'
import { Redis } from 'ioredis'
import { redisStore } from '../../src/store/redis-store.ts'
import { sharedStoreFromEnv } from '../../src/store/server-store.ts'
import { Fernet } from '../../src/vault/fernet.ts'
import { TokenVault } from '../../src/vault/token-vault.ts'

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms))

const freePort = (): number => {
  const listener = Deno.listen({ hostname: '127.0.0.1', port: 0 })
  const { port } = listener.addr as Deno.NetAddr
  listener.close()
  return port
}

const startRedis = async (): Promise<{
  url: string
  stop: () => Promise<void>
  signal: (signal: Deno.Signal) => void
}> => {
  const port = freePort()
  const child = new Deno.Command('redis-server', {
    args: [
      '--port',
      String(port),
      '--bind',
      '127.0.0.1',
      '--save',
      '',
      '--appendonly',
      'no',
      '--dir',
      '/tmp',
    ],
    stdout: 'null',
    stderr: 'null',
  }).spawn()
  const signal = (name: Deno.Signal): void => child.kill(name)
  const stop = async (): Promise<void> => {
    try {
      child.kill('SIGCONT')
      child.kill('SIGTERM')
    } catch {
      // already gone
    }
    await child.status
  }
  for (let i = 0; i < 400; i++) {
    try {
      const conn = await Deno.connect({ hostname: '127.0.0.1', port })
      await conn.write(new TextEncoder().encode('PING\r\n'))
      const buf = new Uint8Array(16)
      const n = (await conn.read(buf)) ?? 0
      conn.close()
      if (new TextDecoder().decode(buf.subarray(0, n)).startsWith('+PONG')) {
        return { url: `redis://127.0.0.1:${port}`, stop, signal }
      }
    } catch {
      // not up yet
    }
    await sleep(25)
  }
  await stop()
  throw new Error('redis-server did not start')
}

Deno.test('redisStore on Deno: values, TTL, lock across two connections, vault at rest', async () => {
  const server = await startRedis()
  const a = redisStore(server.url)
  const b = redisStore(server.url)
  const raw = new Redis(server.url)
  try {
    assert.equal(a.kind, 'redis')
    assert.equal(await a.get('absent'), null)
    await a.put('k', 'v ✓')
    assert.equal(await b.get('k'), 'v ✓')
    await b.delete('k')
    assert.equal(await a.get('k'), null)

    await a.put('brief', 'x', { ttlSeconds: 1 })
    assert.equal(await b.get('brief'), 'x')
    await sleep(1_150)
    assert.equal(await b.get('brief'), null)

    assert.equal(await a.lock('lock', 'owner-a', 10_000), true)
    assert.equal(await b.lock('lock', 'owner-b', 10_000), false)
    await b.unlock('lock', 'owner-b')
    assert.equal(await b.lock('lock', 'owner-b', 10_000), false)
    await a.unlock('lock', 'owner-a')
    assert.equal(await b.lock('lock', 'owner-b', 300), true)
    await sleep(450)
    assert.equal(await a.lock('lock', 'owner-a', 10_000), true)

    const owners = Array.from({ length: 10 }, (_, i) => `racer-${i}`)
    const won = await Promise.all(owners.map((o, i) => (i % 2 ? a : b).lock('race', o, 10_000)))
    assert.equal(won.filter(Boolean).length, 1)

    const vault = new TokenVault({ store: a, keys: { current: Fernet.generateKey() } })
    const token = `fake-access-token-${crypto.randomUUID()}`
    await vault.set('fyers.access_token', token)
    const stored = (await raw.get('keyline:vault:fyers.access_token')) ?? ''
    assert.match(stored, /^gAAAAA[A-Za-z0-9_-]+=*$/)
    assert.ok(!stored.includes(token) && !stored.includes(btoa(token).slice(0, 12)))
    assert.equal(await vault.get('fyers.access_token'), token)

    const fromEnv = await sharedStoreFromEnv({ KEYLINE_REDIS_URL: server.url })
    assert.equal(fromEnv.kind, 'redis')
    assert.equal(await fromEnv.get('keyline:vault:fyers.access_token'), stored)
    await fromEnv.close()
  } finally {
    await Promise.all([a.close(), b.close()])
    raw.disconnect()
    await server.stop()
  }
})

/**
 * Issue 21, item 1, on Deno: a Redis stopped by SIGSTOP (it accepts connections, answers
 * nothing) fails each store call at its deadline (`KEYLINE_STORE_TIMEOUT_MS`) instead of holding
 * it forever; then, the server resumed, the store answers again. The bound (3 s) is 10x the
 * deadline and far from the hang it replaces.
 */
Deno.test('sharedStoreFromEnv on Deno: a hung Redis fails each call at its deadline', async () => {
  const server = await startRedis()
  const store = await sharedStoreFromEnv({
    KEYLINE_REDIS_URL: server.url,
    KEYLINE_STORE_TIMEOUT_MS: '300',
  })
  try {
    await store.put('k', 'v')
    server.signal('SIGSTOP')
    for (const call of [() => store.get('k'), () => store.lock('l', 'me', 1000)]) {
      const started = Date.now()
      await assert.rejects(call(), /no answer in 300 ms/)
      assert.ok(Date.now() - started < 3_000, `took ${Date.now() - started} ms`)
    }
    server.signal('SIGCONT')
    let value: string | null = null
    for (let i = 0; i < 100 && value === null; i++) {
      value = await store.get('k').catch(() => null)
      if (value === null) await sleep(100)
    }
    assert.equal(value, 'v')
  } finally {
    await store.close()
    await server.stop()
  }
})

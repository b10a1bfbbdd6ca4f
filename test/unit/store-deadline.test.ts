import { describe, expect, it, vi } from 'vitest'
import { createApp } from '../../src/app.ts'
import { startupWarnings } from '../../src/entries/startup-report.ts'
import { bindingsOnly } from '../../src/env.ts'
import { kvBinding } from '../../src/rotation/epoch-record.ts'
import { runtimeName } from '../../src/runtime.ts'
import { SecretRegistry } from '../../src/secrets/registry.ts'
import { kvStoreFromEnv } from '../../src/store/kv-store.ts'
import { memoryStore } from '../../src/store/memory-store.ts'
import { sharedStoreFromEnv } from '../../src/store/server-store.ts'
import type { SharedStore } from '../../src/store/shared-store.ts'
import {
  DEFAULT_STORE_TIMEOUT_MS,
  parseStoreTimeout,
  STORE_TIMEOUT_VARIABLE,
  storeTimeoutMs,
  withDeadline,
} from '../../src/store/store-deadline.ts'

/**
 * Issue 21, item 1, in every runtime the library runs on: a store call that never settles
 * (a hung Redis, KV or file system) rejects at its deadline, and `/readyz` tells a load
 * balancer. The deadlines here are short and the bounds generous (10x).
 */
const never = <T>(): Promise<T> => new Promise<T>(() => {})

/** A store whose every call hangs, counting the calls that reached it. */
const hungStore = () => {
  const reached: string[] = []
  const hang =
    (name: string) =>
    <T>(): Promise<T> => {
      reached.push(name)
      return never<T>()
    }
  const store: SharedStore = {
    kind: 'redis',
    get: hang('get'),
    put: hang('put'),
    delete: hang('delete'),
    lock: hang('lock'),
    unlock: hang('unlock'),
  }
  return { store, reached }
}

const elapsed = async (work: () => Promise<unknown>): Promise<{ ms: number; error: unknown }> => {
  const started = Date.now()
  const error = await work().then(
    () => undefined,
    (e: unknown) => e
  )
  return { ms: Date.now() - started, error }
}

describe('KEYLINE_STORE_TIMEOUT_MS', () => {
  it('defaults to 250 ms and takes a whole number of milliseconds', () => {
    expect(storeTimeoutMs({})).toBe(DEFAULT_STORE_TIMEOUT_MS)
    expect(DEFAULT_STORE_TIMEOUT_MS).toBe(250)
    expect(storeTimeoutMs({ [STORE_TIMEOUT_VARIABLE]: ' 800 ' })).toBe(800)
  })

  it.each(['0', '-5', '1.5', 'soon', '5000ms', 'abc', '60001', '1e3'])(
    'takes %j as the default, never throwing, and warns once a process',
    (value) => {
      expect(parseStoreTimeout(value)).toBeNull()
      const warned: string[] = []
      const env = { [STORE_TIMEOUT_VARIABLE]: value }
      expect(storeTimeoutMs(env, (message) => warned.push(message))).toBe(DEFAULT_STORE_TIMEOUT_MS)
      expect(storeTimeoutMs(env, (message) => warned.push(message))).toBe(DEFAULT_STORE_TIMEOUT_MS)
      expect(warned.length).toBeLessThanOrEqual(1)
      for (const message of warned) {
        expect(message).toContain(STORE_TIMEOUT_VARIABLE)
      }
    }
  )

  it('follows the value as it changes (cached by the raw string)', () => {
    expect(parseStoreTimeout(undefined)).toBeUndefined()
    expect(parseStoreTimeout(' ')).toBeUndefined()
    expect(parseStoreTimeout('60000')).toBe(60_000)
    expect(storeTimeoutMs({ [STORE_TIMEOUT_VARIABLE]: '123' })).toBe(123)
    expect(storeTimeoutMs({ [STORE_TIMEOUT_VARIABLE]: 'abc' })).toBe(DEFAULT_STORE_TIMEOUT_MS)
  })

  it('a bad value is a start-up warning naming the variable', async () => {
    const registry = new SecretRegistry()
    for (const value of ['abc', '5000ms']) {
      const lines = await startupWarnings(registry, { [STORE_TIMEOUT_VARIABLE]: value })
      const ours = lines.filter((line) => line.variable === STORE_TIMEOUT_VARIABLE)
      expect(ours).toEqual([expect.objectContaining({ level: 'warn', reason: 'invalid' })])
      expect(ours[0]?.msg).toContain(String(DEFAULT_STORE_TIMEOUT_MS))
    }
    for (const quiet of [
      {},
      { [STORE_TIMEOUT_VARIABLE]: '' },
      { [STORE_TIMEOUT_VARIABLE]: '800' },
    ]) {
      expect(await startupWarnings(registry, quiet)).not.toContainEqual(
        expect.objectContaining({ variable: STORE_TIMEOUT_VARIABLE })
      )
    }
  })

  it('a Node or Deno start with a bad value gets its store (no RangeError), on the default deadline', async () => {
    const store = await sharedStoreFromEnv({ [STORE_TIMEOUT_VARIABLE]: 'abc' })
    expect(store.kind).toBe('memory')
    await store.close()
  })

  it('a Worker with KV bound and a bad value answers its requests (200, not 500)', async () => {
    const kv = new Map<string, string>()
    const binding = {
      get: async (key: string) => kv.get(key) ?? null,
      getWithMetadata: async (key: string) => ({ value: kv.get(key) ?? null, metadata: null }),
      put: async (key: string, value: string) => void kv.set(key, value),
      delete: async (key: string) => void kv.delete(key),
      list: async () => ({ keys: [], list_complete: true }),
    }
    const warn = vi.spyOn(console, 'warn').mockImplementation(() => {})
    try {
      const app = createApp({ env: bindingsOnly, logSink: () => {} })
      const env = { KEYLINE_KV: binding, [STORE_TIMEOUT_VARIABLE]: '5000ms' }
      const ready = await app.request('/readyz', {}, env)
      expect(ready.status).toBe(200)
      expect(await ready.json()).toMatchObject({ store: { kind: 'kv', state: 'ok' } })
      const proxied = await app.request('/v1/models', {}, env)
      expect(proxied.status).not.toBe(500)
    } finally {
      warn.mockRestore()
    }
  })
})

describe('withDeadline', () => {
  it('rejects every call of a hung store at its deadline', async () => {
    const { store } = hungStore()
    for (const call of [
      () => withDeadline(store, 30).get('k'),
      () => withDeadline(store, 30).put('k', 'v'),
      () => withDeadline(store, 30).lock('k', 'me', 1000),
    ]) {
      const { ms, error } = await elapsed(call)
      expect(String(error)).toContain('no answer in 30 ms')
      expect(ms).toBeLessThan(300)
    }
  })

  it('after a timeout, fails at once for a while instead of waiting again, then asks again', async () => {
    const { store, reached } = hungStore()
    const bounded = withDeadline(store, 30)
    await elapsed(() => bounded.get('a'))
    const quick = await elapsed(() => bounded.get('b'))
    expect(quick.error).toBeInstanceOf(Error)
    expect(reached).toEqual(['get'])
    await new Promise((resolve) => setTimeout(resolve, 150))
    await elapsed(() => bounded.get('c'))
    expect(reached).toEqual(['get', 'get'])
  })

  it('passes answers and errors of a healthy store through', async () => {
    const bounded = withDeadline(memoryStore(), 1000)
    await bounded.put('k', 'v')
    expect(await bounded.get('k')).toBe('v')
    expect(await bounded.lock('l', 'me', 1000)).toBe(true)
    await expect(bounded.put('k', 'v', { ttlSeconds: -1 })).rejects.toThrow(RangeError)
  })

  it('bounds a KV binding that hangs, as kvStoreFromEnv and the reload epoch read it', async () => {
    const hung = { getWithMetadata: never, get: never, put: never, delete: never }
    const env = { KEYLINE_KV: hung, [STORE_TIMEOUT_VARIABLE]: '40' }
    const viaStore = await elapsed(() => kvStoreFromEnv(env)?.get('k') ?? Promise.resolve())
    expect(viaStore.error).toBeInstanceOf(Error)
    expect(viaStore.ms).toBeLessThan(400)
    const viaEpoch = await elapsed(
      () => kvBinding(env, 'KEYLINE_KV')?.put('k', 'v') ?? Promise.resolve()
    )
    expect(viaEpoch.error).toBeInstanceOf(Error)
    expect(viaEpoch.ms).toBeLessThan(400)
  })
})

describe('GET /readyz', () => {
  it('200 while the shared store answers, 503 degraded while it hangs; /healthz stays 200', async () => {
    const answering: SharedStore = { ...memoryStore(), kind: 'redis' }
    const healthy = createApp({ env: bindingsOnly, store: answering, logSink: () => {} })
    const ok = await healthy.request('/readyz')
    expect(ok.status).toBe(200)
    expect(await ok.json()).toEqual({
      status: 'ready',
      runtime: runtimeName(),
      store: { kind: 'redis', state: 'ok' },
    })

    const { store } = hungStore()
    const app = createApp({ env: bindingsOnly, store: withDeadline(store, 50), logSink: () => {} })
    const { ms } = await elapsed(async () => {
      const res = await app.request('/readyz')
      expect(res.status).toBe(503)
      expect(res.headers.get('cache-control')).toBe('no-store')
      expect(await res.json()).toMatchObject({
        status: 'degraded',
        store: { kind: 'redis', state: 'unavailable' },
      })
    })
    expect(ms).toBeLessThan(2_000)
    expect((await app.request('/healthz')).status).toBe(200)
  })

  it('200 with store null where there is no shared store', async () => {
    const app = createApp({ env: bindingsOnly, logSink: () => {} })
    const res = await app.request('/readyz')
    expect(res.status).toBe(200)
    expect(await res.json()).toEqual({ status: 'ready', runtime: runtimeName(), store: null })
  })

  it('200 with store null for a memory store (one process, not shared), as the Node server has by default', async () => {
    // What the Node and Deno entries get without KEYLINE_REDIS_URL or KEYLINE_VAULT_FILE.
    const store = await sharedStoreFromEnv({})
    expect(store.kind).toBe('memory')
    const app = createApp({ env: bindingsOnly, store, logSink: () => {} })
    const res = await app.request('/readyz')
    expect(res.status).toBe(200)
    expect(await res.json()).toEqual({ status: 'ready', runtime: runtimeName(), store: null })
    await store.close()
  })
})

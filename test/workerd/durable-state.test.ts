/**
 * The shared state of a Worker in the `KEYLINE_LIMITS` Durable Object (the object
 * `keyline:state` of class `ClientLimits`), in real workerd: the Fyers refresh lock and the
 * rotation events log, with KV the fallback when the binding is absent. Two stores, two
 * `RotationEvents` or two apps stand for two isolates. Runs only in the `workerd` vitest project.
 */
import { env } from 'cloudflare:workers'
import { describe, expect, it } from 'vitest'
import { EVENTS_KEY, RotationEvents } from '../../src/admin/events.ts'
import { createApp } from '../../src/app.ts'
import {
  type DurableNamespace,
  durableStore,
  durableStoreFromEnv,
  withDurableLock,
} from '../../src/store/durable-store.ts'
import { type KvNamespaceLike, kvStoreFromEnv } from '../../src/store/kv-store.ts'
import { releaseLock, takeLock } from '../../src/store/lock.ts'
import { sharedStoreContract } from '../support/shared-store-contract.ts'

const namespace = env.KEYLINE_LIMITS as DurableNamespace
const kv = env.KEYLINE_KV as KvNamespaceLike & { get(key: string): Promise<string | null> }
const onlyDurable = { KEYLINE_LIMITS: namespace }
const onlyKv = { KEYLINE_KV: kv }

sharedStoreContract(
  'durable object (two stores on one binding)',
  async () => ({ a: durableStore(namespace), b: durableStore(namespace) }),
  { atomicLock: true }
)

/** `count` events recorded at once, half by `a`, half by `b`, all marked `marker`. */
const burst = (a: RotationEvents, b: RotationEvents, bindings: object, count: number) => {
  const marker = crypto.randomUUID()
  const recorded = Promise.all(
    Array.from({ length: count }, (_, i) =>
      (i % 2 ? b : a).record(bindings as never, {
        who: 'system',
        action: 'reload',
        provider: null,
        result: 'ok',
        detail: `${marker} ${i}`,
      })
    )
  )
  return { marker, recorded }
}

/** The details of the logged events marked `marker`, as `b` lists them. */
const logged = async (
  events: RotationEvents,
  bindings: object,
  marker: string
): Promise<string[]> => {
  const page = await events.list(bindings as never, { limit: 100 })
  return page.events.flatMap((e) => (e.detail?.startsWith(marker) ? [e.detail] : []))
}

describe('the rotation events log in the Durable Object', () => {
  const events = (): RotationEvents =>
    new RotationEvents({
      store: (b) => durableStoreFromEnv(b) ?? kvStoreFromEnv(b),
      log: () => {},
    })

  it('keeps every event of a burst recorded at once from two isolates: none dropped', async () => {
    const [a, b] = [events(), events()]
    const { marker, recorded } = burst(a, b, onlyDurable, 60)
    await recorded
    const details = await logged(b, onlyDurable, marker)
    expect(details).toHaveLength(60)
    expect(new Set(details).size).toBe(60)
  })

  it('is where an app records its events when the binding is there, KV or not', async () => {
    const admin = `admin-${crypto.randomUUID()}`
    const bindings = { ...onlyDurable, ...onlyKv, ADMIN_TOKEN: admin }
    const [one, other] = [createApp({ logSink: () => {} }), createApp({ logSink: () => {} })]
    const headers = { authorization: `Bearer ${admin}` }
    const reload = await one.request('/admin/keys/reload', { method: 'POST', headers }, bindings)
    expect(reload.status).toBe(200)
    // The other isolate reads the event from the object; KV holds no events log.
    const listed = await other.request('/admin/events', { headers }, bindings)
    const body = (await listed.json()) as { events: { action: string; who: string }[] }
    expect(body.events.find((e) => e.action === 'reload')?.who).toMatch(/^…/)
    expect(await kv.get(EVENTS_KEY)).toBeNull()
    const stored = JSON.parse((await durableStore(namespace).get(EVENTS_KEY)) ?? '[]')
    expect(stored.some((e: { action: string }) => e.action === 'reload')).toBe(true)
  })

  it('without the binding, KV keeps the log as before: events of two isolates in one key', async () => {
    const [a, b] = [events(), events()]
    const marker = crypto.randomUUID()
    for (let i = 0; i < 4; i++) {
      await (i % 2 ? b : a).record(onlyKv as never, {
        who: 'system',
        action: 'failover',
        provider: 'anthropic',
        result: 'ok',
        detail: `${marker} ${i}`,
      })
    }
    expect(await logged(a, onlyKv, marker)).toEqual([3, 2, 1, 0].map((i) => `${marker} ${i}`))
    const stored = JSON.parse((await kv.get(EVENTS_KEY)) ?? '[]') as { detail: string }[]
    expect(stored.filter((e) => e.detail.startsWith(marker))).toHaveLength(4)
  })
})

describe('the Fyers refresh lock in the Durable Object', () => {
  it('one of many concurrent takers from two isolates takes it; released, the next one does', async () => {
    // What the Fyers refresh gets on Workers: the KV store with its lock in the object.
    const [a, b] = [kvStoreFromEnv(onlyKv), kvStoreFromEnv({ ...onlyKv })].map((s) =>
      withDurableLock(s, { ...onlyKv, ...onlyDurable })
    )
    if (!a || !b) throw new Error('no store')
    expect(a.kind).toBe('kv')
    const key = `keyline:lock:test:${crypto.randomUUID()}`
    const owners = Array.from({ length: 30 }, (_, i) => `owner-${i}`)
    const states = await Promise.all(
      owners.map((owner, i) => takeLock(i % 2 ? b : a, key, owner, { ttlMs: 10_000 }))
    )
    expect(states.filter((s) => s === 'taken')).toHaveLength(1)
    expect(states.filter((s) => s === 'held')).toHaveLength(29)
    // The lock lives in the object, not in KV.
    expect(await kv.get(key)).toBeNull()
    const holder = owners[states.indexOf('taken')] as string
    await releaseLock(b, key, 'owner-not-holding')
    expect(await takeLock(a, key, 'late', { ttlMs: 10_000 })).toBe('held')
    await releaseLock(b, key, holder)
    expect(await takeLock(a, key, 'late', { ttlMs: 10_000 })).toBe('taken')
    await releaseLock(a, key, 'late')
  })

  it('expires when its holder never releases it, and a waiter takes it then', async () => {
    const store = withDurableLock(kvStoreFromEnv(onlyKv), { ...onlyKv, ...onlyDurable })
    if (!store) throw new Error('no store')
    const key = `keyline:lock:test:${crypto.randomUUID()}`
    expect(await takeLock(store, key, 'gone', { ttlMs: 300 })).toBe('taken')
    expect(await takeLock(store, key, 'waiter', { ttlMs: 10_000 })).toBe('held')
    const started = Date.now()
    expect(await takeLock(store, key, 'waiter', { ttlMs: 10_000, waitMs: 2_000 })).toBe('taken')
    expect(Date.now() - started).toBeLessThan(1_500)
  })

  it('stays in KV without the binding', () => {
    const store = kvStoreFromEnv(onlyKv)
    expect(withDurableLock(store, onlyKv)).toBe(store)
    expect(durableStoreFromEnv(onlyKv)).toBeUndefined()
    expect(withDurableLock(undefined, onlyDurable)).toBeUndefined()
  })
})

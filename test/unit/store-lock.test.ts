import { describe, expect, it } from 'vitest'
import { releaseLock, takeLock } from '../../src/store/lock.ts'
import { memoryStore } from '../../src/store/memory-store.ts'
import type { SharedStore } from '../../src/store/shared-store.ts'

describe('takeLock / releaseLock', () => {
  it('one owner at a time; the other waits, and takes it once it is released', async () => {
    const store = memoryStore()
    expect(await takeLock(store, 'k', 'a', { ttlMs: 5_000 })).toBe('taken')
    expect(await takeLock(store, 'k', 'b', { ttlMs: 5_000 })).toBe('held')
    const waiting = takeLock(store, 'k', 'b', { ttlMs: 5_000, waitMs: 2_000, pollMs: 10 })
    await new Promise((resolve) => setTimeout(resolve, 30))
    await releaseLock(store, 'k', 'a')
    expect(await waiting).toBe('taken')
  })

  it('gives up after waitMs while another owner holds it', async () => {
    const store = memoryStore()
    await takeLock(store, 'k', 'a', { ttlMs: 5_000 })
    const started = Date.now()
    expect(await takeLock(store, 'k', 'b', { ttlMs: 5_000, waitMs: 60, pollMs: 20 })).toBe('held')
    expect(Date.now() - started).toBeLessThan(2_000)
  })

  it('a failing store is unavailable, never a throw; a failing release is ignored', async () => {
    const failing = {
      ...memoryStore(),
      lock: async () => {
        throw new Error('store down')
      },
      unlock: async () => {
        throw new Error('store down')
      },
    } satisfies SharedStore
    expect(await takeLock(failing, 'k', 'a', { ttlMs: 1_000, waitMs: 100 })).toBe('unavailable')
    await expect(releaseLock(failing, 'k', 'a')).resolves.toBeUndefined()
  })
})

/**
 * One contract every SharedStore keeps (memory, file, Redis, Workers KV), run against each by
 * the store tests. Web APIs only, so it runs in Node, workerd and (through its own copy of the
 * checks) Deno.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import type { SharedStore } from '../../src/store/shared-store.ts'

/** Two clients of one store (the same object where the store is in-process). */
export interface StorePair {
  readonly a: SharedStore
  readonly b: SharedStore
  close?(): Promise<void>
}

export interface ContractOptions {
  /** Whether concurrent `lock` calls are atomic (not on KV, which is best effort). */
  readonly atomicLock: boolean
}

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms))
const unique = (label: string): string => `contract:${label}:${crypto.randomUUID()}`

export const sharedStoreContract = (
  name: string,
  open: () => Promise<StorePair>,
  options: ContractOptions
): void => {
  describe(`SharedStore contract: ${name}`, () => {
    let pair: StorePair
    beforeEach(async () => {
      pair = await open()
    })
    afterEach(async () => {
      await pair.close?.()
    })

    it('puts, reads from either client, overwrites and deletes', async () => {
      const { a, b } = pair
      const key = unique('value')
      expect(await a.get(key)).toBeNull()
      await a.put(key, 'one')
      expect(await b.get(key)).toBe('one')
      await b.put(key, 'two ✓ with "quotes"\nand lines')
      expect(await a.get(key)).toBe('two ✓ with "quotes"\nand lines')
      await a.delete(key)
      expect(await a.get(key)).toBeNull()
      expect(await b.get(key)).toBeNull()
      await b.delete(key)
    })

    it('expires a value after its TTL, and keeps one without', async () => {
      const { a, b } = pair
      const [brief, lasting] = [unique('ttl'), unique('lasting')]
      await a.put(brief, 'soon gone', { ttlSeconds: 1 })
      await a.put(lasting, 'stays')
      expect(await b.get(brief)).toBe('soon gone')
      await sleep(1_150)
      expect(await a.get(brief)).toBeNull()
      expect(await b.get(brief)).toBeNull()
      expect(await b.get(lasting)).toBe('stays')
      await a.put(brief, 'again', { ttlSeconds: 60 })
      expect(await b.get(brief)).toBe('again')
    })

    it('gives a lock to one owner at a time, and only the owner unlocks it', async () => {
      const { a, b } = pair
      const key = unique('lock')
      expect(await a.lock(key, 'owner-a', 10_000)).toBe(true)
      expect(await b.lock(key, 'owner-b', 10_000)).toBe(false)
      expect(await a.lock(key, 'owner-a', 10_000)).toBe(true)
      await b.unlock(key, 'owner-b')
      expect(await b.lock(key, 'owner-b', 10_000)).toBe(false)
      await a.unlock(key, 'owner-a')
      expect(await b.lock(key, 'owner-b', 10_000)).toBe(true)
      expect(await a.lock(key, 'owner-a', 10_000)).toBe(false)
      await b.unlock(key, 'owner-b')
    })

    it('frees a lock whose owner never unlocks once its TTL passes', async () => {
      const { a, b } = pair
      const key = unique('lock-ttl')
      expect(await a.lock(key, 'owner-a', 300)).toBe(true)
      expect(await b.lock(key, 'owner-b', 300)).toBe(false)
      await sleep(450)
      expect(await b.lock(key, 'owner-b', 10_000)).toBe(true)
      expect(await a.lock(key, 'owner-a', 10_000)).toBe(false)
    })

    it.runIf(options.atomicLock)(
      'lets exactly one of many concurrent owners take the lock',
      async () => {
        const { a, b } = pair
        const key = unique('race')
        const owners = Array.from({ length: 12 }, (_, i) => `owner-${i}`)
        const won = await Promise.all(
          owners.map((owner, i) => (i % 2 === 0 ? a : b).lock(key, owner, 10_000))
        )
        expect(won.filter(Boolean)).toHaveLength(1)
      }
    )

    it('refuses bad lock arguments and TTLs', async () => {
      const { a } = pair
      await expect(a.lock(unique('bad'), '', 1_000)).rejects.toThrow(TypeError)
      await expect(a.lock(unique('bad'), 'x', 0)).rejects.toThrow(RangeError)
      await expect(a.put(unique('bad'), 'x', { ttlSeconds: -1 })).rejects.toThrow(RangeError)
    })
  })
}

import { expect, it } from 'vitest'
import { memoryStore } from '../../src/store/memory-store.ts'
import { sharedStoreContract } from '../support/shared-store-contract.ts'

sharedStoreContract(
  'memory',
  async () => {
    const store = memoryStore()
    return { a: store, b: store }
  },
  { atomicLock: true }
)

it('memoryStore: follows the clock it is given', async () => {
  let now = 1_000_000
  const store = memoryStore({ now: () => now })
  await store.put('k', 'v', { ttlSeconds: 30 })
  now += 29_999
  expect(await store.get('k')).toBe('v')
  now += 1
  expect(await store.get('k')).toBeNull()
})

import { describe, expect, it } from 'vitest'
import type { AdminClient } from '../../src/cli/admin-client.ts'
import { waitForStatus } from '../../src/cli/wait-for-status.ts'

const status = (fingerprint: string) =>
  ({ providers: { anthropic: { current: { fingerprint } } } }) as never

describe('waitForStatus', () => {
  it('rides out polls that fail while the deployment reloads', async () => {
    const answers: (() => unknown)[] = [
      () => status('…OLD1'),
      () => {
        throw new Error('HTTP 503 while reloading')
      },
      () => status('…NEW1'),
    ]
    const client = {
      status: async () => (answers.shift() ?? answers[0])?.(),
    } as unknown as AdminClient
    const detail = await waitForStatus(
      client,
      'anthropic',
      (s) =>
        (s as { current: { fingerprint: string } }).current.fingerprint === '…NEW1'
          ? { done: true, detail: 'current …NEW1' }
          : { done: false, waiting: 'current …NEW1' },
      { timeoutMs: 5000, intervalMs: 1, sleep: async () => {} }
    )
    expect(detail).toBe('current …NEW1')
  })

  it('gives up at the deadline, naming the last error', async () => {
    const client = {
      status: async () => {
        throw new Error('connection refused')
      },
    } as unknown as AdminClient
    await expect(
      waitForStatus(client, 'anthropic', () => ({ done: true, detail: '' }), {
        timeoutMs: 30,
        intervalMs: 10,
        sleep: (ms) => new Promise((r) => setTimeout(r, ms)),
      })
    ).rejects.toThrow(/connection refused/)
  })
})

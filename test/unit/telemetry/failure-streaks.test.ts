import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { FailureStreaks } from '../../../src/telemetry/failure-streaks.ts'

describe('FailureStreaks', () => {
  it('counts failures since the last success of the same pair', () => {
    fc.assert(
      fc.property(
        fc.array(fc.record({ op: fc.constantFrom('chat', 'models'), ok: fc.boolean() })),
        (calls) => {
          const streaks = new FailureStreaks()
          for (const { op, ok } of calls) {
            if (ok) streaks.success('anthropic', op)
            else streaks.failure('anthropic', op)
          }
          for (const op of ['chat', 'models']) {
            const mine = calls.filter((c) => c.op === op)
            const lastOk = mine.map((c) => c.ok).lastIndexOf(true)
            expect(streaks.count('anthropic', op)).toBe(mine.length - lastOk - 1)
          }
        }
      )
    )
  })

  it('keeps a reset pair at 0 in the snapshot', () => {
    const streaks = new FailureStreaks()
    expect(streaks.failure('fyers', 'quotes')).toBe(1)
    streaks.success('fyers', 'quotes')
    expect(streaks.snapshot()).toEqual([{ provider: 'fyers', operation: 'quotes', count: 0 }])
  })
})

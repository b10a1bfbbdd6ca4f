import { describe, expect, it } from 'vitest'
import { parseClientLimits } from '../../src/quota/limits.ts'
import { memoryEngine } from '../../src/quota/memory-engine.ts'

const summary = (raw: string) => {
  const table = parseClientLimits(raw)
  return Object.fromEntries(
    [...table.clients.values()].map((c) => [
      c.name,
      c.blocked ? 'blocked' : c.limits.map((l) => `${l.kind}=${l.limit}`).join(':'),
    ])
  )
}

describe('KEYLINE_CLIENT_LIMITS', () => {
  it('reads name:limit[:limit…] entries, comma- or newline-separated, limits in a fixed order', () => {
    expect(summary('ci:rpm=30, bulk:tpd=2000000:tpm=90000\nunnamed:rpd=5')).toEqual({
      ci: 'rpm=30',
      bulk: 'tpm=90000:tpd=2000000',
      unnamed: 'rpd=5',
    })
    expect(parseClientLimits('bulk:tpm=9').clients.get('bulk')?.tokens).toBe(true)
    expect(parseClientLimits('ci:rpm=9').clients.get('ci')?.tokens).toBe(false)
  })

  it.each([
    'ci:rpm=ten',
    'ci:rpm=0',
    'ci:rpm=-1',
    'ci:rpm=1.5',
    'ci:rpm=3:rpm=4',
    'ci:rps=3',
    'ci',
    'ci:',
    'ci:rpm=3,ci:tpm=4',
  ])('blocks the client of a malformed entry (%s), never leaving it unlimited', (raw) => {
    const table = parseClientLimits(`${raw},other:rpm=2`)
    expect(table.clients.get('ci')?.blocked).toContain('KEYLINE_CLIENT_LIMITS')
    expect(table.clients.get('other')?.limits).toHaveLength(1)
    expect(table.issues.length).toBeGreaterThan(0)
    expect(table.closed).toBeUndefined()
  })

  it('closes every client when an entry names none', () => {
    const table = parseClientLimits('rpm=5,ci:rpm=9')
    expect(table.closed).toContain('"rpm=5"')
    expect(parseClientLimits('9ci:rpm=5').closed).toBeDefined()
  })

  it('ignores empty entries and yields nothing for an empty text', () => {
    expect(parseClientLimits(' , ,\n').clients.size).toBe(0)
    expect(parseClientLimits('').issues).toEqual([])
  })
})

describe('the memory engine', () => {
  const ci = parseClientLimits('ci:rpm=2:tpm=10').clients.get('ci') as never
  it('passes N requests in a window, refuses the next, and starts afresh in the next window', async () => {
    const engine = memoryEngine()
    const minute = 60_000 * 1000
    expect((await engine.take(ci, minute)).refused).toBeUndefined()
    expect((await engine.take(ci, minute + 1)).refused).toBeUndefined()
    const refused = await engine.take(ci, minute + 59_999)
    expect(refused.refused).toBe('rpm')
    expect(refused.counts.map((c) => [c.kind, c.used, c.resetAt])).toEqual([
      ['rpm', 2, minute + 60_000],
      ['tpm', 0, minute + 60_000],
      ['refused', 1, Math.floor(minute / 86_400_000 + 1) * 86_400_000],
    ])
    expect((await engine.take(ci, minute + 60_000)).refused).toBeUndefined()
  })

  it('refuses once the tokens used reach a token limit, charged after the call', async () => {
    const engine = memoryEngine()
    expect((await engine.take(ci, 0)).refused).toBeUndefined()
    await engine.charge(ci, 10, 0)
    expect((await engine.take(ci, 1)).refused).toBe('tpm')
    const usage = await engine.usage(ci, 2)
    expect(usage.counts.map((c) => c.used)).toEqual([1, 10, 1])
  })
})

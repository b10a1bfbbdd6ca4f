import { describe, expect, it } from 'vitest'
import { batchedSink } from '../../src/log/sink.ts'

const record = (level: 'info' | 'warn' | 'error', msg: string) => ({
  level,
  time: '2026-12-01T00:00:00.000Z',
  msg,
})

describe('batchedSink', () => {
  it('writes the lines of one turn in one call, warnings and errors apart', async () => {
    const out: string[] = []
    const err: string[] = []
    const sink = batchedSink({ out: (t) => out.push(t), err: (t) => err.push(t) })
    sink(record('info', 'a'))
    sink(record('info', 'b'))
    sink(record('error', 'c'))
    expect(out).toEqual([])
    await new Promise((resolve) => setTimeout(resolve, 5))
    expect(out).toHaveLength(1)
    expect(
      out[0]
        ?.split('\n')
        .filter(Boolean)
        .map((l) => JSON.parse(l).msg)
    ).toEqual(['a', 'b'])
    expect(err).toHaveLength(1)
    expect(JSON.parse(err[0] ?? '').msg).toBe('c')
  })

  it('writes at once after maxLines, and flush() writes what is left', () => {
    const out: string[] = []
    const sink = batchedSink({ out: (t) => out.push(t), maxLines: 2 })
    sink(record('info', 'a'))
    sink(record('info', 'b'))
    expect(out).toHaveLength(1)
    sink(record('warn', 'c'))
    sink.flush()
    expect(out).toHaveLength(2)
    expect(JSON.parse(out[1] ?? '').msg).toBe('c')
  })
})

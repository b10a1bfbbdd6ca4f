import { describe, expect, it } from 'vitest'
import { heavyError, plainError } from '../../bench/redaction.ts'
import { quantile, summarize } from '../../bench/support/stats.ts'
import { formatTable, latencyRatio, ratio } from '../../bench/support/table.ts'
import { fixedKeys, fixedToken, randomToken } from '../../bench/support/tokens.ts'
import { type Metafile, packageOf, packageSizes } from '../../bench/support/workers.ts'

describe('bench support', () => {
  it('takes nearest-rank quantiles', () => {
    const values = Array.from({ length: 100 }, (_, i) => i + 1)
    expect(quantile(values, 0.5)).toBe(50)
    expect(quantile(values, 0.99)).toBe(99)
    expect(quantile([], 0.5)).toBe(0)
    expect(summarize([3, 1, 2])).toEqual({ count: 3, p50: 2, p99: 3, max: 3 })
  })

  it('formats ratios and the table', () => {
    expect(ratio(1, 4)).toBe('0.25×')
    expect(ratio(1, 0)).toBe('—')
    expect(latencyRatio(3, 1)).toBe('3.00× (+2.00 ms)')
    const table = formatTable([
      {
        bench: 1,
        measurement: 'a|b',
        keyline: '1',
        comparator: 'x 2',
        ratio: '0.50×',
        target: '—',
      },
    ])
    expect(table.split('\n')).toHaveLength(3)
    expect(table).toContain('a\\|b')
  })

  it('attributes bundle bytes to packages', () => {
    expect(packageOf('../../node_modules/hono/dist/index.js')).toBe('hono')
    expect(packageOf('node_modules/@opentelemetry/api/build/x.js')).toBe('@opentelemetry/api')
    expect(packageOf('node_modules/a/node_modules/zod/index.js')).toBe('zod')
    expect(packageOf('src/app.ts')).toBe('keyline (src/)')
    const meta: Metafile = {
      inputs: {},
      outputs: {
        'worker.js': {
          bytes: 60,
          entryPoint: 'src/entries/worker.ts',
          inputs: {
            'src/app.ts': { bytesInOutput: 10 },
            'node_modules/zod/a.js': { bytesInOutput: 30 },
            'node_modules/zod/b.js': { bytesInOutput: 20 },
          },
        },
        'worker.js.map': { bytes: 999, inputs: {} },
      },
    }
    expect(packageSizes(meta)).toEqual([
      ['zod', 50],
      ['keyline (src/)', 10],
    ])
  })

  it('builds the heavy error of the redaction benchmark', () => {
    const error = heavyError('secret-value-0123456789', 'token-value-0123456789')
    const plain = plainError(error) as { headers: Record<string, string>; cause: unknown }
    expect(Object.keys(plain.headers)).toHaveLength(50)
    let depth = 0
    for (let c: unknown = plain.cause; c; c = (c as { cause?: unknown }).cause) depth++
    expect(depth).toBe(10)
  })

  it('makes fixed tokens shaped as the random ones, the same for a seed in every run', () => {
    const shape = /^sk-ant-[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/
    expect(randomToken('sk-ant')).toMatch(shape)
    expect(fixedToken('sk-ant', 1)).toMatch(shape)
    expect(fixedToken('sk-ant', 1)).toBe(fixedToken('sk-ant', 1))
    expect(fixedToken('sk-ant', 2)).not.toBe(fixedToken('sk-ant', 1))
    // Its digits spread: no run of one digit, most of the 16 used.
    expect(new Set(fixedToken('sk-ant', 1).slice(7).replaceAll('-', '')).size).toBeGreaterThan(8)
    // The benchmarks' fixed keys: the stubs' key shape, a client token, the same in every call.
    expect(fixedKeys().apiKey).toMatch(shape)
    expect(fixedKeys().clientToken).toMatch(/^bench-client-/)
    expect(fixedKeys()).toEqual(fixedKeys())
  })
})

import { readFileSync } from 'node:fs'
import { expect, it } from 'vitest'
import { FYERS_OPERATIONS } from '../../src/catalog/fyers.ts'

/** The README's Fyers section names every operation of the catalog's call table, and no other. */
it('the README lists every Fyers operation keyline knows', () => {
  const readme = readFileSync(new URL('../../README.md', import.meta.url), 'utf8')
  const start = readme.indexOf('### Fyers: the whole API under `/fyers/*`')
  const section = readme.slice(start, readme.indexOf('**Trading is off by default.**', start))
  const table = section
    .split('\n')
    .filter(
      (line) => line.startsWith('| ') && !line.startsWith('| path') && !line.startsWith('| ---')
    )
  const named = new Set(
    table.flatMap((row) => [...(row.split('|')[2] ?? '').matchAll(/`(\w+)`/g)].map((m) => m[1]))
  )
  expect([...named].sort()).toEqual([...FYERS_OPERATIONS, '_OTHER'].sort())
})

import { readFileSync } from 'node:fs'
import { describe, expect, it } from 'vitest'
import { ANTHROPIC_MODELS, EXAMPLE_MODEL } from '../../src/catalog/anthropic.ts'
import { STUB_MODELS } from '../stubs/anthropic-wire.ts'

const read = (path: string): string =>
  readFileSync(new URL(`../../${path}`, import.meta.url), 'utf8')

describe('the model id of the examples', () => {
  it('is a current model the stub serves too', () => {
    expect(ANTHROPIC_MODELS).toContain(EXAMPLE_MODEL)
    expect(STUB_MODELS.map((m) => m.id)).toContain(EXAMPLE_MODEL)
  })

  it.each(['README.md', 'scripts/demo.ts', 'test/deno/import_test.ts'])(
    'is the one %s uses',
    (path) => {
      const ids = new Set(read(path).match(/claude-[a-z0-9-]+/g) ?? [])
      if (path === 'scripts/demo.ts') expect(read(path)).toContain('EXAMPLE_MODEL')
      for (const id of ids) expect(id).toBe(EXAMPLE_MODEL)
    }
  )
})

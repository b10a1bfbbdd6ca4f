import { readFile } from 'node:fs/promises'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { CONSOLE_ASSETS_PATH, generateConsoleAssets } from '../../scripts/console/generate.ts'
import { CONSOLE_SCRIPT } from '../../src/admin/console/console-script.ts'
import { CONSOLE_STYLE } from '../../src/admin/console/console-style.ts'

const root = join(import.meta.dirname, '..', '..')

describe('the console assets keyline serves', () => {
  it('are generated from the readable sources (minified)', async () => {
    const onDisk = await readFile(join(root, CONSOLE_ASSETS_PATH), 'utf8')
    expect(
      onDisk,
      `${CONSOLE_ASSETS_PATH} differs from its sources: run \`npx node scripts/generate-console.ts\``
    ).toBe(await generateConsoleAssets())
  })

  it('are smaller than their sources', async () => {
    const served = await import('../../src/admin/console/console-assets.ts')
    expect(served.CONSOLE_SCRIPT.length).toBeLessThan(CONSOLE_SCRIPT.length * 0.75)
    expect(served.CONSOLE_STYLE.length).toBeLessThan(CONSOLE_STYLE.length)
    expect(served.CONSOLE_SCRIPT.startsWith('"use strict";')).toBe(true)
  })
})

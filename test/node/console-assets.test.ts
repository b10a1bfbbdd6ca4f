import { readdir, readFile } from 'node:fs/promises'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { CONSOLE_STATIC_DIR, generateConsoleAssets } from '../../scripts/console/generate.ts'
import { CONSOLE_SCRIPT } from '../../src/admin/console/console-script.ts'
import { CONSOLE_STYLE } from '../../src/admin/console/console-style.ts'

const root = join(import.meta.dirname, '..', '..')

describe('the console assets keyline serves', () => {
  it('are generated from the readable sources (minified): the strings, the headers, the static files', async () => {
    const generated = await generateConsoleAssets()
    for (const [file, content] of Object.entries(generated)) {
      const onDisk = await readFile(join(root, file), 'utf8').catch(() => '(missing)')
      expect(
        onDisk,
        `${file} differs from its sources: run \`npx node scripts/generate-console.ts\``
      ).toBe(content)
    }
    // Nothing stale is left in the Worker's static assets: they are the generated files only.
    const inStatic = (await readdir(join(root, CONSOLE_STATIC_DIR))).map(
      (name) => `${CONSOLE_STATIC_DIR}/${name}`
    )
    expect(inStatic.sort()).toEqual(
      Object.keys(generated)
        .filter((file) => file.startsWith(`${CONSOLE_STATIC_DIR}/`))
        .sort()
    )
  })

  it('are the same files on every runtime: the Worker’s static assets equal the strings', async () => {
    const served = await import('../../src/admin/console/console-assets.ts')
    const asset = (name: string) => readFile(join(root, CONSOLE_STATIC_DIR, name), 'utf8')
    expect(await asset('console.html')).toBe(served.CONSOLE_PAGE)
    expect(await asset('console.js')).toBe(served.CONSOLE_SCRIPT)
    expect(await asset('console.css')).toBe(served.CONSOLE_STYLE)
  })

  it('are smaller than their sources', async () => {
    const served = await import('../../src/admin/console/console-assets.ts')
    expect(served.CONSOLE_SCRIPT.length).toBeLessThan(CONSOLE_SCRIPT.length * 0.75)
    expect(served.CONSOLE_STYLE.length).toBeLessThan(CONSOLE_STYLE.length)
    expect(served.CONSOLE_SCRIPT.startsWith('"use strict";')).toBe(true)
  })
})

describe('wrangler.toml', () => {
  it('serves the Worker’s static assets from the generated directory, the Worker first', async () => {
    const toml = await readFile(join(root, 'wrangler.toml'), 'utf8')
    const assets = /^\[assets\]\n((?:[^[\n].*\n?)*)/m.exec(toml)?.[1] ?? ''
    expect(assets).toContain(`directory = "./${CONSOLE_STATIC_DIR}"`)
    expect(assets).toContain('binding = "ASSETS"')
    expect(assets).toContain('run_worker_first = true')
  })
})

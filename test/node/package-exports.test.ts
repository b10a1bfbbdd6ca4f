import { spawnSync } from 'node:child_process'
import {
  cpSync,
  existsSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'

const ROOT = new URL('../../', import.meta.url).pathname
const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8'))
const dir = mkdtempSync(join(tmpdir(), 'keyline-pkg-'))

/** Builds the package as `npm pack` would ship it: package.json, `bin/` and `dist/` from the build. */
beforeAll(() => {
  const build = spawnSync(
    join(ROOT, 'node_modules/.bin/tsc'),
    ['-p', join(ROOT, 'tsconfig.build.json'), '--outDir', join(dir, 'dist')],
    { encoding: 'utf8' }
  )
  expect(build.status, build.stdout + build.stderr).toBe(0)
  writeFileSync(join(dir, 'package.json'), JSON.stringify(pkg))
  cpSync(join(ROOT, 'bin'), join(dir, 'bin'), { recursive: true })
  symlinkSync(join(ROOT, 'node_modules'), join(dir, 'node_modules'))
}, 120_000)
afterAll(() => rmSync(dir, { recursive: true, force: true }))

describe('the built package', () => {
  const entries = Object.entries(pkg.exports as Record<string, string | Record<string, string>>)

  it.each(entries.filter(([, target]) => typeof target !== 'string'))(
    'export %s points at built files that import',
    async (_name, target) => {
      const { types, import: js } = target as { types: string; import: string }
      expect(existsSync(join(dir, types))).toBe(true)
      const module = await import(join(dir, js))
      expect(Object.keys(module).length).toBeGreaterThan(0)
    }
  )

  it('the keyline bin runs', () => {
    const bin = join(dir, pkg.bin.keyline)
    const run = spawnSync(process.execPath, [bin, '--help'], { encoding: 'utf8' })
    expect(run.status).toBe(0)
    expect(run.stdout).toContain('rotate anthropic|fyers')
  })
})

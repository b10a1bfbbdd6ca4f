import { readdir, readFile } from 'node:fs/promises'
import { join, relative } from 'node:path'
import { describe, expect, it } from 'vitest'
import { GENERATED_DIRS, generateDashboards } from '../../../scripts/dashboards/generate.ts'

const root = join(import.meta.dirname, '..', '..', '..')
const FIX = 'run `npx node scripts/generate-dashboards.ts` and commit dashboards/'

describe('dashboards/ matches the generator', () => {
  const files = generateDashboards()

  it.each(Object.keys(files))('%s is up to date', async (path) => {
    const onDisk = await readFile(join(root, path), 'utf8').catch(() => undefined)
    expect(onDisk, `${path} differs from the generator: ${FIX}`).toBe(files[path])
  })

  it('has no stale generated files', async () => {
    const stale: string[] = []
    for (const dir of GENERATED_DIRS) {
      const entries = await readdir(join(root, dir), { recursive: true, withFileTypes: true })
      for (const e of entries) {
        if (!e.isFile()) continue
        const path = relative(root, join(e.parentPath, e.name)).split('\\').join('/')
        if (!(path in files)) stale.push(path)
      }
    }
    expect(stale, FIX).toEqual([])
  })
})

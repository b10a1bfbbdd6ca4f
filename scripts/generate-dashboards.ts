/**
 * Writes the generated files of `dashboards/` from `src/telemetry`:
 * `npx node scripts/generate-dashboards.ts` (or `--check` to only report drift, exit 1 on any).
 */
import { mkdir, readdir, readFile, rm, writeFile } from 'node:fs/promises'
import { dirname, join, relative } from 'node:path'
import { fileURLToPath } from 'node:url'
import { GENERATED_DIRS, generateDashboards } from './dashboards/generate.ts'

const root = join(dirname(fileURLToPath(import.meta.url)), '..')

const listFiles = async (dir: string): Promise<string[]> => {
  const entries = await readdir(join(root, dir), { withFileTypes: true, recursive: true }).catch(
    () => []
  )
  return entries
    .filter((e) => e.isFile())
    .map((e) => relative(root, join(e.parentPath, e.name)).split('\\').join('/'))
}

const main = async (): Promise<void> => {
  const check = process.argv.includes('--check')
  const files = generateDashboards()
  const drift: string[] = []
  for (const [path, content] of Object.entries(files)) {
    const current = await readFile(join(root, path), 'utf8').catch(() => undefined)
    if (current === content) continue
    drift.push(path)
    if (!check) {
      await mkdir(dirname(join(root, path)), { recursive: true })
      await writeFile(join(root, path), content)
    }
  }
  for (const dir of GENERATED_DIRS) {
    for (const path of await listFiles(dir)) {
      if (path in files) continue
      drift.push(`${path} (stale)`)
      if (!check) await rm(join(root, path))
    }
  }
  if (check && drift.length > 0) {
    console.error(`dashboards/ is out of date:\n  ${drift.join('\n  ')}`)
    process.exitCode = 1
  } else {
    console.log(
      drift.length === 0 ? 'dashboards/ is up to date' : `wrote:\n  ${drift.join('\n  ')}`
    )
  }
}

await main()

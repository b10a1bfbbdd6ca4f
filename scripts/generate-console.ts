/**
 * Writes the console's generated files (`src/admin/console/console-assets.ts`,
 * `console-header-values.ts` and the Worker's static assets in `src/admin/console/static/`)
 * from the readable sources in `src/admin/console/`: `npx node scripts/generate-console.ts`
 * (or `--check` to only report drift, exit 1 on any).
 */
import { mkdir, readFile, writeFile } from 'node:fs/promises'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { generateConsoleAssets } from './console/generate.ts'

const root = join(dirname(fileURLToPath(import.meta.url)), '..')
const check = process.argv.includes('--check')
for (const [file, content] of Object.entries(await generateConsoleAssets())) {
  const path = join(root, file)
  const current = await readFile(path, 'utf8').catch(() => undefined)
  if (current === content) {
    console.log(`${file} is up to date`)
  } else if (check) {
    console.error(`${file} is out of date: run npx node scripts/generate-console.ts`)
    process.exitCode = 1
  } else {
    await mkdir(dirname(path), { recursive: true })
    await writeFile(path, content)
    console.log(`wrote ${file}`)
  }
}

/**
 * Writes `src/admin/console/console-assets.ts` (the console page, script and style as served,
 * minified) from the readable sources in `src/admin/console/`:
 * `npx node scripts/generate-console.ts` (or `--check` to only report drift, exit 1 on any).
 */
import { readFile, writeFile } from 'node:fs/promises'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { CONSOLE_ASSETS_PATH, generateConsoleAssets } from './console/generate.ts'

const root = join(dirname(fileURLToPath(import.meta.url)), '..')
const path = join(root, CONSOLE_ASSETS_PATH)
const content = await generateConsoleAssets()
const current = await readFile(path, 'utf8').catch(() => undefined)
if (current === content) {
  console.log(`${CONSOLE_ASSETS_PATH} is up to date`)
} else if (process.argv.includes('--check')) {
  console.error(`${CONSOLE_ASSETS_PATH} is out of date: run npx node scripts/generate-console.ts`)
  process.exitCode = 1
} else {
  await writeFile(path, content)
  console.log(`wrote ${CONSOLE_ASSETS_PATH}`)
}

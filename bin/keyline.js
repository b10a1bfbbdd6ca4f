#!/usr/bin/env node
// The `keyline` command (`npx keyline …`). Plain JavaScript, so any Node on PATH can start it
// (a fresh clone's machine may have Node 20): it runs the CLI's TypeScript with this Node when
// it can (22.18 or newer), else with the Node 22 that `npm install` brings into node_modules,
// and runs the built CLI (dist/) when the package was built (as published).
import { spawnSync } from 'node:child_process'
import { existsSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { fileURLToPath, pathToFileURL } from 'node:url'

const root = dirname(dirname(fileURLToPath(import.meta.url)))
const built = join(root, 'dist', 'cli', 'main.js')
const source = join(root, 'src', 'cli', 'main.ts')
const [major = 0, minor = 0] = process.versions.node.split('.').map(Number)
const runsTypeScript = major > 22 || (major === 22 && minor >= 18)

if (existsSync(built)) {
  await import(pathToFileURL(built).href)
} else if (runsTypeScript) {
  await import(pathToFileURL(source).href)
} else {
  const node22 = [
    join(root, 'node_modules', '.bin', 'node'),
    join(root, '..', '.bin', 'node'),
  ].find((path) => existsSync(path))
  if (!node22) {
    process.stderr.write(
      `keyline: this Node is ${process.versions.node} and the CLI needs Node 22.12 or newer: run \`npm install\` (it brings Node 22 into node_modules) or install Node 22.\n`
    )
    process.exit(1)
  }
  const run = spawnSync(node22, [source, ...process.argv.slice(2)], { stdio: 'inherit' })
  process.exit(run.status ?? 1)
}

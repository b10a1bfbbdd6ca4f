import { spawnSync } from 'node:child_process'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'

/** Issue 22, item 6: `--help` on the Node and Deno entries prints the variables and exits 0. */
const ROOT = new URL('../../', import.meta.url).pathname
const bin = (name: string): string => join(ROOT, 'node_modules/.bin', name)

describe('--help on the server entries', () => {
  it.each([
    ['node', bin('node'), ['src/entries/node.ts', '--help']],
    [
      'deno',
      bin('deno'),
      ['run', '--allow-env', '--allow-read', '--allow-net', 'src/entries/deno.ts', '--help'],
    ],
  ] as const)(
    '%s: prints one line per variable and exits 0, without listening',
    (_name, command, args) => {
      const run = spawnSync(command, [...args], {
        cwd: ROOT,
        encoding: 'utf8',
        timeout: 60_000,
        env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '' },
      })
      expect(run.status, run.stderr).toBe(0)
      for (const name of [
        'HOST, PORT',
        'KEYLINE_CLIENT_TOKENS',
        'ADMIN_TOKEN',
        'ANTHROPIC_API_KEY',
        'FYERS_ACCESS_TOKEN',
        'LOG_LEVEL',
      ]) {
        expect(run.stdout).toContain(`  ${name}`)
      }
      expect(run.stdout).not.toContain('keyline listening')
    },
    90_000
  )
})

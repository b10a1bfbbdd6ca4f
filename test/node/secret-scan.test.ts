import { spawnSync } from 'node:child_process'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'

const ROOT = new URL('../../', import.meta.url).pathname
const dir = mkdtempSync(join(tmpdir(), 'keyline-scan-'))
afterAll(() => rmSync(dir, { recursive: true, force: true }))

const random = (n: number): string =>
  Array.from(crypto.getRandomValues(new Uint8Array(n)), (b) =>
    'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789'.charAt(b % 62)
  ).join('')

/** Runs the project's secretlint, with the project's rules, on one file. */
const scan = (name: string, content: string): string => {
  const file = join(dir, name)
  writeFileSync(file, content)
  const result = spawnSync(
    join(ROOT, 'node_modules/.bin/secretlint'),
    ['--secretlintrc', join(ROOT, '.secretlintrc.json'), file],
    { cwd: ROOT, encoding: 'utf8' }
  )
  if (result.status === 0) return 'clean'
  return /error\s+\[(ANTHROPIC_API_KEY|PATTERN)\]/.test(result.stdout) ? 'found' : result.stdout
}

describe('the secret scan in npm test fails on a committed key', () => {
  it('an Anthropic key in code', () => {
    const key = `sk-ant-api03-${random(93)}-${random(6)}AA`
    expect(scan('a.ts', `const client = new Anthropic({ apiKey: '${key}' })\n`)).toBe('found')
  })

  it('a Fyers access token (a JWT) and a keyline variable given a literal', () => {
    const jwt = `eyJ${random(20)}.eyJ${random(40)}.${random(43)}`
    expect(scan('b.ts', `export const token = '${jwt}'\n`)).toBe('found')
    expect(scan('.env', `FYERS_ACCESS_TOKEN=${random(32)}\n`)).toBe('found')
    expect(scan('c.ts', `const env = { ADMIN_TOKEN: "${random(32)}" }\n`)).toBe('found')
  })

  it('but not code that reads keys from bindings, nor the env templates', () => {
    expect(scan('d.ts', 'const env = { ANTHROPIC_API_KEY: keys.anthropic.apiKey }\n')).toBe('clean')
    expect(scan('e.example', 'ANTHROPIC_API_KEY=\nFYERS_ACCESS_TOKEN=\n')).toBe('clean')
  })
})

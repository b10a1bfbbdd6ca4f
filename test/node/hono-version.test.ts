import { readFileSync } from 'node:fs'
import { createRequire } from 'node:module'
import { describe, expect, it } from 'vitest'

const FIXED = [4, 12, 21] as const
const parse = (version: string): number[] =>
  (/(\d+)\.(\d+)\.(\d+)/.exec(version)?.slice(1) ?? []).map(Number)
const atLeastFixed = (version: string): boolean => {
  const [major = 0, minor = 0, patch = 0] = parse(version)
  return major > 4 || (major === 4 && (minor > 12 || (minor === 12 && patch >= FIXED[2])))
}

describe('hono is pinned at or above the release that fixed the 2026 path-normalisation advisories', () => {
  const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8'))

  it('in package.json (peer and dev ranges)', () => {
    expect(atLeastFixed(pkg.peerDependencies.hono)).toBe(true)
    expect(atLeastFixed(pkg.devDependencies.hono)).toBe(true)
  })

  it('in node_modules', () => {
    const entry = createRequire(import.meta.url).resolve('hono')
    const root = entry.slice(
      0,
      entry.lastIndexOf('/node_modules/hono/') + '/node_modules/hono/'.length
    )
    const installed = JSON.parse(readFileSync(`${root}package.json`, 'utf8'))
    expect(atLeastFixed(installed.version)).toBe(true)
  })
})

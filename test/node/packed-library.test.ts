import { execFileSync, spawnSync } from 'node:child_process'
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  symlinkSync,
} from 'node:fs'
import { tmpdir } from 'node:os'
import { delimiter, join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'

/**
 * Issue 22, items 5 and 10: the package as `npm pack` makes it, installed into an app's
 * `node_modules` and imported with the machine's own Node (20 on CI: the first `node` on PATH
 * outside any `node_modules/.bin`), not the Node 22 that `npm ci` brings. Its dependencies are
 * the repository's (linked), so no registry is needed.
 */
const ROOT = new URL('../../', import.meta.url).pathname
const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8'))
const app = mkdtempSync(join(tmpdir(), 'keyline-packed-'))

/** The machine's Node: the first `node` on PATH that npm did not put there. */
const machineNode = (): string => {
  for (const dir of (process.env.PATH ?? '').split(delimiter)) {
    if (!dir || dir.includes('node_modules')) continue
    if (existsSync(join(dir, 'node'))) return join(dir, 'node')
  }
  return '/usr/bin/node'
}
const node = machineNode()

beforeAll(() => {
  const packed = execFileSync('npm', ['pack', '--json', '--pack-destination', app], {
    cwd: ROOT,
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  const [{ filename }] = JSON.parse(packed.slice(packed.indexOf('['))) as [{ filename: string }]
  const target = join(app, 'node_modules', 'keyline')
  mkdirSync(target, { recursive: true })
  execFileSync('tar', ['-xzf', join(app, filename), '-C', target, '--strip-components=1'])
  for (const name of readdirSync(join(ROOT, 'node_modules'))) {
    if (name === 'keyline' || name.startsWith('.')) continue
    symlinkSync(join(ROOT, 'node_modules', name), join(app, 'node_modules', name))
  }
}, 240_000)
afterAll(() => rmSync(app, { recursive: true, force: true }))

describe('the packed library on the machine Node', () => {
  const version = (): string => execFileSync(node, ['--version'], { encoding: 'utf8' }).trim()

  it('its engines admit that Node (no EBADENGINE), and at least Node 20', () => {
    const wanted = /^>=(\d+)$/.exec(pkg.engines.node)
    expect(wanted, `engines.node is ${pkg.engines.node}`).not.toBeNull()
    const major = Number(version().slice(1).split('.')[0])
    expect(Number(wanted?.[1])).toBeLessThanOrEqual(Math.min(major, 20))
  })

  it('every export imports, and createApp answers, on that Node', () => {
    const subpaths = Object.keys(pkg.exports).filter((p) => p !== './package.json')
    const script = `
      const names = ${JSON.stringify(subpaths)}
      for (const p of names) {
        const m = await import(p === '.' ? 'keyline' : 'keyline' + p.slice(1))
        if (Object.keys(m).length === 0) throw new Error('empty export ' + p)
      }
      const { createApp } = await import('keyline')
      const app = createApp({ env: () => ({}), logSink: () => {} })
      const res = await app.request('/healthz')
      const closed = await app.request('/v1/models')
      console.log(JSON.stringify({ node: process.version, health: await res.json(), closed: closed.status }))
    `
    const run = spawnSync(node, ['--input-type=module', '-e', script], {
      cwd: app,
      encoding: 'utf8',
    })
    expect(run.status, run.stderr).toBe(0)
    const out = JSON.parse(run.stdout.trim().split('\n').at(-1) ?? '{}')
    expect(out).toMatchObject({ node: version(), health: { status: 'ok' }, closed: 401 })
  })

  it('the packed keyline bin runs on that Node', () => {
    const run = spawnSync(node, [join(app, 'node_modules/keyline/bin/keyline.js'), '--help'], {
      cwd: app,
      encoding: 'utf8',
    })
    expect(run.status, run.stderr).toBe(0)
    expect(run.stdout).toContain('Usage: keyline')
  })
})

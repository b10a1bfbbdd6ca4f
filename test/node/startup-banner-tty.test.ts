import { spawn, spawnSync } from 'node:child_process'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { randomSecret } from '../support/secret-pieces.ts'

/**
 * Issue 22, item 6: on a terminal the Node entry prints a banner a person reads, not JSON
 * (spawned under util-linux `script`, which gives it a pseudo-terminal; skipped without it).
 */
const ROOT = new URL('../../', import.meta.url).pathname
const hasScript = spawnSync('script', ['--version'], { encoding: 'utf8' }).status === 0

describe.skipIf(!hasScript)('the start-up banner on a terminal', () => {
  it('node: URL, providers, the proxy closed, admin and the console, the store', async () => {
    const node = join(ROOT, 'node_modules/.bin/node')
    const child = spawn('script', ['-qec', `"${node}" src/entries/node.ts`, '/dev/null'], {
      cwd: ROOT,
      detached: true,
      env: {
        PATH: process.env.PATH ?? '',
        HOME: process.env.HOME ?? '',
        PORT: '0',
        ANTHROPIC_API_KEY: randomSecret('sk-ant-'),
        ADMIN_TOKEN: randomSecret('adm-'),
      },
    })
    let output = ''
    child.stdout.on('data', (chunk: Buffer) => {
      output += chunk.toString()
    })
    try {
      for (let i = 0; i < 300 && !output.includes('Shared store'); i++) {
        await new Promise((resolve) => setTimeout(resolve, 100))
      }
    } finally {
      if (child.pid) process.kill(-child.pid, 'SIGTERM')
    }
    const text = output.replaceAll('\r', '')
    const url = /keyline listening on (http:\/\/127\.0\.0\.1:\d+) \(node\)/.exec(text)?.[1]
    expect(url, text).toBeDefined()
    expect(text).not.toContain('{"level"')
    expect(text).toContain('  Anthropic: configured from env:ANTHROPIC_API_KEY')
    expect(text).toContain(
      '  Proxy: closed, no client tokens (set KEYLINE_CLIENT_TOKENS to open it)'
    )
    expect(text).toContain(`  Admin API and console: on, console at ${url}/admin`)
    expect(text).toContain('  Shared store: memory')
  }, 60_000)
})

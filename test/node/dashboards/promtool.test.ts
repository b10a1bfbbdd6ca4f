import { execFile } from 'node:child_process'
import { readdir } from 'node:fs/promises'
import { join } from 'node:path'
import { promisify } from 'node:util'
import { describe, expect, it } from 'vitest'
import { PATHS } from '../../../scripts/dashboards/config.ts'

const run = promisify(execFile)
const root = join(import.meta.dirname, '..', '..', '..')

const promtoolVersion = async (): Promise<string | undefined> => {
  try {
    const { stdout, stderr } = await run('promtool', ['--version'])
    return (stdout || stderr).split('\n')[0]
  } catch {
    return undefined
  }
}

const version = await promtoolVersion()
const missing = version === undefined
if (missing && !process.env.CI) {
  console.warn(
    'promtool not found: skipping the Prometheus rule checks. Install it (Debian: `apt-get install prometheus`) to run them; under CI a missing promtool fails the test.'
  )
}

/** Runs promtool and returns its output; a non-zero exit fails the test with that output. */
const promtool = async (args: string[]): Promise<string> => {
  try {
    const { stdout, stderr } = await run('promtool', args, { cwd: root })
    return stdout + stderr
  } catch (error) {
    const e = error as { stdout?: string; stderr?: string; message: string }
    throw new Error(`promtool ${args.join(' ')} failed:\n${e.stdout ?? ''}${e.stderr ?? e.message}`)
  }
}

describe.skipIf(missing && !process.env.CI)('promtool', () => {
  it('is installed', () => {
    expect(version, 'promtool is required under CI').toBeDefined()
  })

  it('accepts the Prometheus rules (promtool check rules)', async () => {
    const out = await promtool(['check', 'rules', PATHS.prometheusRules])
    expect(out).toMatch(/SUCCESS/)
  })

  it('passes every alert unit test (promtool test rules)', async () => {
    const tests = (await readdir(join(root, PATHS.promtoolTests)))
      .filter((f) => f.endsWith('.test.yml'))
      .map((f) => `${PATHS.promtoolTests}/${f}`)
    expect(tests.length).toBeGreaterThan(0)
    const out = await promtool(['test', 'rules', ...tests])
    expect(out).not.toMatch(/FAILED/)
  })
})

/**
 * The whole test suite, as `npm test` runs it: lint and format check, type check (Node and
 * Deno), secret scan, every vitest project (Node, workerd, real servers on all three
 * runtimes; the built package's exports included), Deno's own tests, and `npm publish` /
 * `deno publish` dry runs. Stages run in order;
 * each one's output is shown as it comes; the last line sums up every test run as
 * `N passed, N failed, N skipped`.
 */
import { spawnSync } from 'node:child_process'
import { mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join, relative } from 'node:path'

interface Counts {
  passed: number
  failed: number
  skipped: number
  /** The failed tests' names, `file > describe > test`, repeated at the end of the run. */
  failures: string[]
}

const work = mkdtempSync(join(tmpdir(), 'keyline-test-'))
const vitestJson = join(work, 'vitest.json')
const denoJunit = join(work, 'deno.xml')
const only = process.argv.slice(2)

const stages: { name: string; command: string[]; counts?: () => Counts }[] = [
  { name: 'lint', command: ['biome', 'check', '.'] },
  { name: 'types', command: ['tsc', '--noEmit', '-p', '.'] },
  { name: 'types:deno', command: ['deno', 'check', 'src/entries/deno.ts', 'test/deno/'] },
  { name: 'secrets', command: ['secretlint', '**/*'] },
  {
    name: 'vitest',
    command: [
      'vitest',
      'run',
      '--reporter=default',
      '--reporter=json',
      `--outputFile.json=${vitestJson}`,
    ],
    counts: () => {
      const report = JSON.parse(readFileSync(vitestJson, 'utf8')) as VitestReport
      const failures: string[] = []
      for (const file of report.testResults) {
        const name = relative(process.cwd(), file.name)
        for (const test of file.assertionResults)
          if (test.status === 'failed')
            failures.push(`${name} > ${test.fullName}${why(test.failureMessages?.[0])}`)
        // A file that fails outside its tests (an import error, a hook) has no failed test to name.
        if (file.status === 'failed' && !file.assertionResults.some((t) => t.status === 'failed'))
          failures.push(
            `${name}: ${firstLine(file.message) || 'failed outside its tests (a hook?)'}`
          )
      }
      return {
        passed: report.numPassedTests,
        failed: report.numFailedTests,
        skipped: report.numPendingTests + report.numTodoTests,
        failures,
      }
    },
  },
  {
    name: 'deno',
    command: [
      'deno',
      'test',
      '--allow-env',
      '--allow-read',
      '--allow-write',
      '--allow-net',
      // test/deno/import_test.ts builds the package (tsc) and runs a Deno app from it; the
      // Redis store test starts its own redis-server.
      '--allow-run',
      `--junit-path=${denoJunit}`,
      'test/deno/',
    ],
    counts: () => {
      const xml = readFileSync(denoJunit, 'utf8')
      const total = Number(/<testsuites[^>]*tests="(\d+)"/.exec(xml)?.[1] ?? 0)
      // Deno writes some failures (an error thrown after its test ended) as `<error>`.
      const failed =
        Number(/<testsuites[^>]*failures="(\d+)"/.exec(xml)?.[1] ?? 0) +
        Number(/<testsuites[^>]*errors="(\d+)"/.exec(xml)?.[1] ?? 0)
      const skipped = (xml.match(/<skipped/g) ?? []).length
      const failures: string[] = []
      for (const [, attributes = '', body = ''] of xml.matchAll(
        /<testcase([^>]*)>([\s\S]*?)<\/testcase>/g
      )) {
        const failure = /<(?:failure|error)\b([^>]*)/.exec(body)
        if (!failure) continue
        const message = unescapeXml(/message="([^"]*)"/.exec(failure[1] ?? '')?.[1] ?? '')
        const name = unescapeXml(/name="([^"]*)"/.exec(attributes)?.[1] ?? '?')
        const file = unescapeXml(/classname="([^"]*)"/.exec(attributes)?.[1] ?? 'test/deno')
        failures.push(`${file} > ${name}${why(message)}`)
      }
      return { passed: total - failed - skipped, failed, skipped, failures }
    },
  },
  // The package publishes (issue 22 item 5): npm's tarball and JSR's (Hono's ContextVariableMap
  // augmentations are ambient modules, which JSR counts as slow types: hence --allow-slow-types).
  { name: 'publish:npm', command: ['npm', 'publish', '--dry-run'] },
  {
    name: 'publish:jsr',
    command: ['deno', 'publish', '--dry-run', '--allow-dirty', '--allow-slow-types'],
  },
  // Every benchmark once with tiny counts: fails only when one cannot run, never on a timing.
  { name: 'bench:quick', command: ['node', 'bench/index.ts', '--quick'] },
]

interface VitestReport {
  numPassedTests: number
  numFailedTests: number
  numPendingTests: number
  numTodoTests: number
  testResults: {
    name: string
    status: string
    message?: string
    assertionResults: { fullName: string; status: string; failureMessages?: string[] }[]
  }[]
}

const firstLine = (text = ''): string => text.split('\n', 1)[0] ?? ''

/**
 * Why a test failed, for the list at the end: the message's first line and, when a custom
 * message (e.g. a server's output) pushed the assertion down, the line before the stack
 * (`…: expected …`); each cut short.
 */
const why = (message = ''): string => {
  const cut = (line: string) => (line.length > 240 ? `${line.slice(0, 240)}…` : line)
  const lines = message.split('\n')
  // The stack is the last block of `at` lines (a custom message may hold some of its own).
  let stack = lines.length
  while (stack > 0 && !/^\s+at /.test(lines[stack - 1] ?? '')) stack -= 1
  while (stack > 1 && /^\s+at /.test(lines[stack - 2] ?? '')) stack -= 1
  stack -= 1
  const first = lines[0]?.trim() ?? ''
  const last = stack > 1 ? lines[stack - 1]?.trim() : undefined
  return [first, last]
    .filter(Boolean)
    .map((line) => `\n      ${cut(line as string)}`)
    .join('')
}

const XML_ENTITIES: Record<string, string> = { lt: '<', gt: '>', amp: '&', quot: '"', apos: "'" }
const unescapeXml = (text: string): string =>
  text.replace(/&(lt|gt|amp|quot|apos);/g, (_, name: string) => XML_ENTITIES[name] ?? '')

const total: Counts = { passed: 0, failed: 0, skipped: 0, failures: [] }
const failedStages: string[] = []
for (const stage of stages) {
  if (only.length && !only.includes(stage.name)) continue
  console.log(`\n▶ ${stage.name}: ${stage.command.join(' ')}`)
  const [bin, ...args] = stage.command as [string, ...string[]]
  const result = spawnSync(bin, args, { stdio: 'inherit', env: process.env })
  if (result.status !== 0) failedStages.push(stage.name)
  let named = false
  if (stage.counts) {
    try {
      const counts = stage.counts()
      total.passed += counts.passed
      total.failed += counts.failed
      total.skipped += counts.skipped
      total.failures.push(...counts.failures)
      named = counts.failures.length > 0
    } catch {
      if (result.status === 0) failedStages.push(`${stage.name} (no report)`)
    }
    // A failure its report does not name (a file that threw before its tests, a type error).
    if (result.status !== 0 && !named) {
      total.failures.push(`${stage.name}: failed where its report names no test; see its output`)
    }
  }
}
rmSync(work, { recursive: true, force: true })

// Named again here, at the end, where a log cut to its last lines still shows them.
if (total.failures.length)
  console.log(`\n✖ failed tests:\n${total.failures.map((name) => `  - ${name}`).join('\n')}`)
if (failedStages.length) console.log(`\n✖ failed stages: ${failedStages.join(', ')}`)
console.log(`\ntests: ${total.passed} passed, ${total.failed} failed, ${total.skipped} skipped`)
process.exit(failedStages.length ? 1 : 0)

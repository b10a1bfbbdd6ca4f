import { execFileSync } from 'node:child_process'
import { readdir, readFile } from 'node:fs/promises'
import { join, relative } from 'node:path'
import { CORE_SCHEMA, load, YAML11_SCHEMA } from 'js-yaml'
import { describe, expect, it } from 'vitest'
import { parse } from 'yaml'
import { generateDashboards } from '../../../scripts/dashboards/generate.ts'
import {
  portableYaml,
  yaml11ReadsAsNonString,
  yamlDocument,
} from '../../../scripts/dashboards/yaml.ts'

/**
 * Every YAML file under `dashboards/` must mean the same to every common parser: the `yaml`
 * package (YAML 1.2, which the generator writes with), js-yaml with its YAML 1.2 core and its
 * YAML 1.1 schema, the `yaml` package in YAML 1.1 mode, and PyYAML (YAML 1.1, the only one of
 * them that knows the `=` value tag). Prometheus and Grafana read these files with Go's
 * YAML 1.1-ish parsers, so a plain `=`, `yes`, `1:30` or `0755` would not survive there.
 */

const root = join(import.meta.dirname, '..', '..', '..')

const yamlFiles = async (): Promise<string[]> => {
  const entries = await readdir(join(root, 'dashboards'), { recursive: true, withFileTypes: true })
  return entries
    .filter((e) => e.isFile() && /\.ya?ml$/.test(e.name))
    .map((e) => relative(root, join(e.parentPath, e.name)).split('\\').join('/'))
    .sort()
}

const FILES = await yamlFiles()

/** What each JS parser makes of a text; a parse error becomes `{ error }`. */
const JS_PARSERS: ReadonlyArray<[string, (text: string) => unknown]> = [
  ['js-yaml (core schema)', (text) => load(text, { schema: CORE_SCHEMA })],
  ['js-yaml (YAML 1.1 schema)', (text) => load(text, { schema: YAML11_SCHEMA })],
  ['yaml (version 1.1)', (text) => parse(text, { version: '1.1' })],
]

const attempt = (read: () => unknown): unknown => {
  try {
    return read()
  } catch (error) {
    return { error: (error as Error).message.split('\n')[0] }
  }
}

const pyyamlMissing = ((): string | undefined => {
  try {
    execFileSync('python3', ['-c', 'import yaml'], { stdio: 'pipe' })
    return undefined
  } catch (error) {
    return (error as { stderr?: Buffer }).stderr?.toString().trim() || (error as Error).message
  }
})()
if (pyyamlMissing) {
  console.warn(
    `PyYAML not importable by python3 (${pyyamlMissing}): skipping the PyYAML checks. Install it (Debian: \`apt-get install python3-yaml\`, or \`pip install pyyaml\`) to run them.`
  )
}

/**
 * Reads YAML texts (a JSON object of name → text on stdin) with PyYAML's `safe_load`, as JSON by
 * name. Values JSON cannot tell apart from strings or string keys (dates, bytes, non-string
 * keys, NaN/infinity) are tagged, so a misread compares unequal instead of being hidden by the
 * conversion; a parse error becomes `{ error }`.
 */
const PYYAML = `
import json, math, sys, yaml

def plain(v):
    if isinstance(v, dict):
        return {k if isinstance(k, str) else "<%s key %r>" % (type(k).__name__, k): plain(x) for k, x in v.items()}
    if isinstance(v, list):
        return [plain(x) for x in v]
    if isinstance(v, float) and not math.isfinite(v):
        return "<float %r>" % v
    if v is None or isinstance(v, (str, bool, int, float)):
        return v
    return "<%s %r>" % (type(v).__name__, v)

out = {}
for name, text in json.load(sys.stdin).items():
    try:
        out[name] = {"data": plain(yaml.safe_load(text))}
    except Exception as e:
        out[name] = {"error": "%s: %s" % (type(e).__name__, str(e).splitlines()[0])}
json.dump(out, sys.stdout)
`

const pyyaml = (texts: Readonly<Record<string, string>>): Record<string, unknown> => {
  const stdout = execFileSync('python3', ['-c', PYYAML], {
    input: JSON.stringify(texts),
    maxBuffer: 64 * 1024 * 1024,
    encoding: 'utf8',
  })
  const results = JSON.parse(stdout) as Record<string, { data?: unknown; error?: string }>
  return Object.fromEntries(
    Object.entries(results).map(([name, r]) => [name, 'error' in r ? { error: r.error } : r.data])
  )
}

/** Strings YAML 1.2 reads as strings but YAML 1.1 (or PyYAML) reads as something else. */
const YAML_1_1_AMBIGUOUS = [
  ...['=', '<<', '~', 'null', 'NULL', ''],
  ...['y', 'Y', 'n', 'N', 'yes', 'Yes', 'NO', 'on', 'On', 'OFF', 'True', 'false'],
  ...['1:30', '-1:30', '190:20:30', '190:20:30.15', '0755', '0b1010', '0x1F', '+12', '-0'],
  ...['1_000', '1_000.5', '1.', '.5', '1.2.3', '1.5e3', '.inf', '-.Inf', '.NaN'],
  ...['2001-12-14', '2001-1-2 3:04:05', '2001-12-14t21:59:43.10-05:00', '2001-12-14 21:59:43 Z'],
]
/** Strings every parser reads as strings unquoted: they must stay plain. */
const PLAIN = ['30s', '5m', 'keyline', 'keyline-oncall', '10:70', '1.2.3a', 'yes please', '0 1 2']

describe('generated YAML reads the same in every common parser', () => {
  it('finds every YAML file the generator writes', () => {
    const generated = Object.keys(generateDashboards()).filter((p) => /\.ya?ml$/.test(p))
    expect(generated.length).toBeGreaterThan(0)
    expect(FILES).toEqual(expect.arrayContaining(generated))
  })

  describe.each(FILES)('%s', (path) => {
    it.each(JS_PARSERS)('%s', async (_, read) => {
      const text = await readFile(join(root, path), 'utf8')
      expect(attempt(() => read(text))).toEqual(parse(text))
    })

    it.skipIf(pyyamlMissing !== undefined)('PyYAML (safe_load)', async () => {
      const text = await readFile(join(root, path), 'utf8')
      expect(pyyaml({ [path]: text })[path]).toEqual(parse(text))
    })
  })
})

describe("the generator's YAML writer (portableYaml)", () => {
  const value = {
    values: [...YAML_1_1_AMBIGUOUS, ...PLAIN],
    keys: Object.fromEntries([...YAML_1_1_AMBIGUOUS, ...PLAIN].map((s, i) => [s, i])),
  }
  const text = portableYaml(yamlDocument(value))

  it('recognises the strings YAML 1.1 reads differently and leaves the others plain', () => {
    for (const s of YAML_1_1_AMBIGUOUS) expect(yaml11ReadsAsNonString(s), s).toBe(true)
    for (const s of PLAIN) {
      expect(yaml11ReadsAsNonString(s), s).toBe(false)
      expect(text).toContain(`\n  - ${s}\n`)
    }
  })

  it('round-trips them in the yaml package', () => {
    expect(parse(text)).toEqual(value)
  })

  it.each(JS_PARSERS)('round-trips them in %s', (_, read) => {
    expect(attempt(() => read(text))).toEqual(value)
  })

  it.skipIf(pyyamlMissing !== undefined)('round-trips them in PyYAML (safe_load)', () => {
    expect(pyyaml({ sample: text }).sample).toEqual(value)
  })

  it('refuses a number YAML 1.1 would read as a string', () => {
    expect(() => portableYaml(yamlDocument({ big: 1e21 }))).toThrow(/1e\+21/)
    expect(portableYaml(yamlDocument({ ratio: 0.25, seconds: 172_800, delta: -3 }))).toBe(
      'ratio: 0.25\nseconds: 172800\ndelta: -3\n'
    )
  })
})

import type { SecretIssue } from '../catalog/definitions.ts'
import type { EnvRecord } from '../env.ts'
import { isWorkersRuntime } from '../runtime.ts'
import { unusableReason } from './placeholder.ts'
import { storeReadOf } from './stores/store-sources.ts'

/** Reads a mounted secret file (`NAME_FILE`). */
export type FileReader = (path: string) => Promise<string>

interface RuntimeGlobals {
  Deno?: { readTextFile?: (path: string) => Promise<string> }
  process?: { getBuiltinModule?: (id: string) => unknown }
}

/**
 * The runtime's own file reader: `Deno.readTextFile` on Deno, `node:fs/promises` on Node (through
 * `process.getBuiltinModule`, so nothing is imported where files do not exist); `undefined` on
 * Workers, whose secrets are bindings.
 */
export const runtimeFileReader = (): FileReader | undefined => {
  const runtime = globalThis as RuntimeGlobals
  if (isWorkersRuntime()) return undefined
  const deno = runtime.Deno?.readTextFile
  if (typeof deno === 'function') return (path) => deno(path)
  const fs = runtime.process?.getBuiltinModule?.('node:fs/promises') as
    | { readFile?: (path: string, encoding: 'utf8') => Promise<string> }
    | undefined
  const readFile = fs?.readFile
  return typeof readFile === 'function' ? (path) => readFile(path, 'utf8') : undefined
}

/** A usable value and where it came from. */
export interface FoundValue {
  readonly value: string
  readonly source: string
}

/** What reading one variable (and its `_FILE` form) produced. */
export interface ReadResult {
  readonly found?: FoundValue
  readonly issues: SecretIssue[]
}

const stringAt = (env: EnvRecord, name: string): string | undefined => {
  const raw = env[name]
  return typeof raw === 'string' ? raw : undefined
}

/**
 * Reads `name` from the environment (where a secure store's value stands in for it, see
 * `StoreSources.overlay`), then `<name>_FILE` through `readFile`. Values are trimmed; empty and
 * placeholder values are not usable, and the reason is kept as an issue.
 */
export const readValue = async (
  env: EnvRecord,
  name: string,
  readFile: FileReader | undefined
): Promise<ReadResult> => {
  const issues: SecretIssue[] = []
  const candidates: { source: string; variable: string; load: () => Promise<string> }[] = []
  const direct = stringAt(env, name)
  const stored = storeReadOf(env, name)
  if (stored?.error !== undefined) {
    issues.push({
      reason: 'store_unavailable',
      variable: stored.variable,
      blocking: false,
      message: `${stored.variable}: ${stored.error}`,
    })
  }
  if (direct !== undefined) {
    const source = stored && stored.error === undefined ? stored.source : `env:${name}`
    const variable = stored && stored.error === undefined ? stored.variable : name
    candidates.push({ source, variable, load: async () => direct })
  }
  const filePath = stringAt(env, `${name}_FILE`)?.trim()
  if (filePath) {
    const variable = `${name}_FILE`
    if (readFile) {
      candidates.push({ source: `file:${filePath}`, variable, load: () => readFile(filePath) })
    } else {
      issues.push({
        reason: 'file_unsupported',
        variable,
        blocking: false,
        message: `${variable} is set, but this runtime cannot read files; bind ${name} instead`,
      })
    }
  }
  for (const candidate of candidates) {
    let text: string
    try {
      text = await candidate.load()
    } catch {
      issues.push({
        reason: 'file_unreadable',
        variable: candidate.variable,
        blocking: false,
        message: `${candidate.variable} names a file that cannot be read`,
      })
      continue
    }
    const value = text.trim()
    const reason = unusableReason(value)
    // `NAME=` (a blank line copied from .env.example) is not set, not an issue; an empty file is.
    if (reason === 'empty' && candidate.variable === name) continue
    if (reason) {
      issues.push({
        reason,
        variable: candidate.variable,
        blocking: false,
        message: {
          empty: `${candidate.variable} is empty`,
          placeholder: `${candidate.variable} holds a placeholder, not a real value`,
          invalid_characters: `${candidate.variable} holds characters no credential has (spaces, control characters or non-ASCII)`,
        }[reason],
      })
      continue
    }
    return { found: { value, source: candidate.source }, issues }
  }
  return { issues }
}

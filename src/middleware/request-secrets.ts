import type { CredentialDefinition } from '../catalog/definitions.ts'
import { CLIENT_TOKENS_VARIABLE } from '../catalog/keyline.ts'
import { providerDefinitions } from '../catalog/providers.ts'
import type { EnvRecord } from '../env.ts'
import type { Logger } from '../log/logger.ts'
import { collectSecretValues, isSecretEnvName } from '../redact/collect-secrets.ts'
import type { Redactor } from '../redact/redactor.ts'
import type { CredentialState, SecretsSnapshot } from '../secrets/registry.ts'
import { clientTokenValues } from './client-auth.ts'

declare module 'hono' {
  /**
   * What keyline's middleware puts on `c.var` for the code after it, declared once here at the
   * bottom of `middleware/` so every reader is typed: `secrets()` sets `secrets`; `redaction()`
   * sets `redactor` and `logger`.
   */
  interface ContextVariableMap {
    /** Every provider's configuration for this request: fingerprints and issues, never values. */
    secrets: SecretsSnapshot
    /** The redactor of this request: it knows every secret the request may hold. */
    redactor: () => Redactor
    /** The logger of this request, at `LOG_LEVEL`, redacting with its redactor. */
    logger: Logger
  }
}

/** The tokens of the last client token list seen: it changes rarely, and is read per request. */
let lastClientTokens: { raw: string; tokens: readonly string[] } = { raw: '', tokens: [] }

/** Whether `env` holds `texts` in `names`, one to one. */
const sameTexts = (
  env: EnvRecord,
  names: readonly string[],
  texts: readonly unknown[]
): boolean => {
  for (let i = 0; i < names.length; i++) if (env[names[i] as string] !== texts[i]) return false
  return true
}

/** Options of {@link RequestRedactors}. */
export interface RequestRedactorsOptions {
  /**
   * How long the names of an environment's credential-named variables are kept before it is
   * scanned again, so a variable added at run time is redacted within this bound.
   * @default 5000
   */
  scanMs?: number
  /** How many redactors (one per distinct set of secret values) are kept. @default 16 */
  size?: number
  /** Clock, for tests. @default Date.now */
  now?: () => number
}

/**
 * The redactor of each request, built once per distinct set of secret values and reused while
 * those values are unchanged: the secret values are every provider credential in each slot
 * (promoted values included, from the snapshot) and every credential-named variable of the
 * environment (client tokens, admin tokens), comma-separated lists split into their entries.
 * Per request it reads only the few credential-named variables, found by scanning each
 * environment object at most every `scanMs`.
 */
export class RequestRedactors {
  readonly #base: Redactor
  readonly #scanMs: number
  readonly #size: number
  readonly #now: () => number
  readonly #names = new WeakMap<object, { at: number; names: readonly string[] }>()
  readonly #redactors = new Map<string, Redactor>()
  #last:
    | {
        env: EnvRecord
        snapshot: SecretsSnapshot | undefined
        names: readonly string[]
        texts: readonly unknown[]
        redactor: Redactor
      }
    | undefined

  constructor(base: Redactor, options: RequestRedactorsOptions = {}) {
    this.#base = base
    this.#scanMs = options.scanMs ?? 5000
    this.#size = Math.max(1, options.size ?? 16)
    this.#now = options.now ?? Date.now
  }

  /**
   * The redactor for a request that sees `env` and (once resolved) `snapshot`. While the
   * environment object, the snapshot (one per secret generation) and the text of each of its
   * credential-named variables are those of the last call, the last redactor is returned with
   * no allocation: per request this costs a read of those few variables.
   */
  for(env: EnvRecord, snapshot?: SecretsSnapshot): Redactor {
    const names = this.#secretNames(env)
    const last = this.#last
    if (
      last?.env === env &&
      last.snapshot === snapshot &&
      last.names === names &&
      sameTexts(env, names, last.texts)
    ) {
      return last.redactor
    }
    const values = this.values(env, snapshot)
    const key = values.join('\u0000')
    const redactor = this.#redactors.get(key) ?? this.#base.withSecrets(values)
    this.#last = { env, snapshot, names, texts: names.map((name) => env[name]), redactor }
    if (this.#redactors.has(key)) return redactor
    this.#redactors.set(key, redactor)
    if (this.#redactors.size > this.#size) {
      const oldest = this.#redactors.keys().next().value
      if (oldest !== undefined) this.#redactors.delete(oldest)
    }
    return redactor
  }

  /** Every secret value the request may hold, in a stable order. Never throws. */
  values(env: EnvRecord, snapshot?: SecretsSnapshot): string[] {
    const values = new Set<string>()
    try {
      if (snapshot) {
        for (const provider of Object.values(snapshot)) {
          const definitions: Record<string, CredentialDefinition> =
            providerDefinitions[provider.provider].credentials
          for (const [name, state] of Object.entries<CredentialState>(provider.credentials)) {
            if (definitions[name]?.redact === false) continue
            const current = state.current?.reveal()
            if (current) values.add(current)
            const next = state.next?.reveal()
            if (next) values.add(next)
          }
        }
      }
    } catch {
      for (const value of collectSecretValues(snapshot)) values.add(value)
    }
    for (const name of this.#secretNames(env)) {
      const value = env[name]
      if (typeof value !== 'string' || value.trim() === '') continue
      if (name === CLIENT_TOKENS_VARIABLE) {
        // Client tokens may be named (`name=token`): the names are shown, the tokens are not.
        if (value !== lastClientTokens.raw) {
          lastClientTokens = { raw: value, tokens: clientTokenValues(value) }
        }
        for (const token of lastClientTokens.tokens) values.add(token)
        continue
      }
      values.add(value)
      if (!value.includes(',')) continue
      for (const entry of value.split(',')) {
        const trimmed = entry.trim()
        if (trimmed && !trimmed.startsWith('sha256:')) values.add(trimmed)
      }
    }
    return [...values]
  }

  #secretNames(env: EnvRecord): readonly string[] {
    const now = this.#now()
    const known = this.#names.get(env)
    if (known && now - known.at < this.#scanMs) return known.names
    const names: string[] = []
    try {
      // Inherited names count: an environment with store values laid over it inherits the rest.
      for (const name in env) if (isSecretEnvName(name)) names.push(name)
    } catch {
      // An unreadable environment yields what was read.
    }
    this.#names.set(env, { at: now, names })
    return names
  }
}

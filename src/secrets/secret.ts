import { fingerprint } from './fingerprint.ts'

/** Which of a credential's two values a secret is: the one in use, or the one staged beside it. */
export type SecretSlot = 'current' | 'next'

/** What a resolved secret says about itself; never any part of its value beyond the fingerprint. */
export interface SecretInfo {
  /** Provider id, e.g. `anthropic`. */
  readonly provider: string
  /** Credential name within the provider, e.g. `apiKey`. */
  readonly credential: string
  readonly slot: SecretSlot
  /** Where the value came from, e.g. `env:CLAUDE_API_KEY` or `file:/run/secrets/key`. */
  readonly source: string
  /** `…ABCD`, or `[REDACTED]` for a secret shorter than 16 characters. */
  readonly fingerprint: string
  /** Changes whenever the value behind this provider, credential and slot changes. */
  readonly generation: number
}

const INSPECT_NODE = Symbol.for('nodejs.util.inspect.custom')
const INSPECT_DENO = Symbol.for('Deno.customInspect')

/**
 * A credential value that cannot be printed by accident: `JSON.stringify`, `String()`,
 * template literals, `util.inspect`/`console.log` and `structuredClone` show only its
 * fingerprint. The value is reachable through {@link Secret.reveal} alone.
 */
export class Secret implements SecretInfo {
  readonly #value: string
  readonly provider: string
  readonly credential: string
  readonly slot: SecretSlot
  readonly source: string
  readonly fingerprint: string
  readonly generation: number

  constructor(value: string, info: Omit<SecretInfo, 'fingerprint'>) {
    this.#value = value
    this.provider = info.provider
    this.credential = info.credential
    this.slot = info.slot
    this.source = info.source
    this.generation = info.generation
    this.fingerprint = fingerprint(value)
    Object.freeze(this)
  }

  /** The raw value, for the one place that sends it upstream. Never log or return it. */
  reveal(): string {
    return this.#value
  }

  /** The fields of {@link SecretInfo}, safe to serialize. */
  info(): SecretInfo {
    return {
      provider: this.provider,
      credential: this.credential,
      slot: this.slot,
      source: this.source,
      fingerprint: this.fingerprint,
      generation: this.generation,
    }
  }

  toJSON(): SecretInfo {
    return this.info()
  }

  toString(): string {
    return `Secret(${this.provider}.${this.credential}:${this.slot} ${this.fingerprint})`
  }

  [Symbol.toPrimitive](): string {
    return this.toString()
  }

  [INSPECT_NODE](): string {
    return this.toString()
  }

  [INSPECT_DENO](): string {
    return this.toString()
  }
}

/**
 * The shape of a provider's configuration (its credentials and settings) and of what can be
 * wrong with it: pure data, read by the secret registry, the redactor, the stores and the
 * admin status alike.
 */

/** Why a credential or setting is not usable, or what is odd about it. */
export type SecretIssueReason =
  | 'missing'
  | 'empty'
  | 'placeholder'
  | 'invalid_characters'
  | 'alias_conflict'
  | 'file_unreadable'
  | 'file_unsupported'
  | 'store_unavailable'
  | 'invalid_url'

/** A reason kept beside the snapshot, naming the variable concerned and never its value. */
export interface SecretIssue {
  readonly reason: SecretIssueReason
  /** The variable the issue is about, e.g. `CLAUDE_API_KEY` or `ANTHROPIC_API_KEY_FILE`. */
  readonly variable: string
  /** `true` when the issue stops the provider from being configured. */
  readonly blocking: boolean
  readonly message: string
}

/** One credential of a provider: where its current value and its staged next value are read. */
export interface CredentialDefinition {
  /** Canonical variable first, aliases after it; the first usable one wins. */
  readonly env: readonly [string, ...string[]]
  /** Variable that stages the next value beside the current one, when the credential rotates. */
  readonly next?: string
  /** Human label used in messages, e.g. `API key`. */
  readonly label: string
  /**
   * An optional credential (e.g. what refreshes a token) does not stop the provider from being
   * configured when it is missing.
   * @default false
   */
  readonly optional?: boolean
  /**
   * When the value stops working (epoch milliseconds), for values that say so (a JWT's `exp`):
   * a value keyline obtained itself replaces the bound one only while it lasts longer.
   */
  readonly expiresAt?: (value: string) => number | undefined
  /**
   * `false` for a value too short to recognise in text (a 4-digit PIN would mangle every number
   * that holds its digits): it is sent only in the body of the one call that needs it, and never
   * shown (not even a fingerprint).
   * @default true
   */
  readonly redact?: boolean
}

/** A non-secret setting of a provider, such as its upstream base URL. */
export interface SettingDefinition {
  readonly env: string
  readonly default: string
  /** `url` values must be absolute http(s) URLs. */
  readonly kind: 'url'
  /** An optional setting may be left empty (its default is then `''`). @default false */
  readonly optional?: boolean
}

/** Everything keyline knows about one provider's configuration. */
export interface ProviderDefinition<C extends string = string, S extends string = string> {
  readonly id: string
  /** Display name, e.g. `Anthropic`. */
  readonly name: string
  readonly credentials: { readonly [K in C]: CredentialDefinition }
  readonly settings: { readonly [K in S]: SettingDefinition }
}

/**
 * Every variable name the registry reads for a provider, the `_FILE` forms included (the store
 * forms, `_AWS_SECRET` and `_AWS_PARAMETER`, are read by `StoreSources`).
 */
export const variablesOf = (definition: ProviderDefinition): string[] => {
  const names: string[] = []
  for (const credential of Object.values<CredentialDefinition>(definition.credentials)) {
    for (const name of [...credential.env, ...(credential.next ? [credential.next] : [])]) {
      names.push(name, `${name}_FILE`)
    }
  }
  for (const setting of Object.values<SettingDefinition>(definition.settings)) {
    names.push(setting.env)
  }
  return names
}

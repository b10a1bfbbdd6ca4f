/** One credential of a provider: where its current value and its staged next value are read. */
export interface CredentialDefinition {
  /** Canonical variable first, aliases after it; the first usable one wins. */
  readonly env: readonly [string, ...string[]]
  /** Variable that stages the next value beside the current one, when the credential rotates. */
  readonly next?: string
  /** Human label used in messages, e.g. `API key`. */
  readonly label: string
}

/** A non-secret setting of a provider, such as its upstream base URL. */
export interface SettingDefinition {
  readonly env: string
  readonly default: string
  /** `url` values must be absolute http(s) URLs. */
  readonly kind: 'url'
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

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

/** Anthropic: the API key (alias `CLAUDE_API_KEY`), its next key and the upstream base URL. */
export const anthropicDefinition = {
  id: 'anthropic',
  name: 'Anthropic',
  credentials: {
    apiKey: {
      env: ['ANTHROPIC_API_KEY', 'CLAUDE_API_KEY'],
      next: 'ANTHROPIC_API_KEY_NEW',
      label: 'API key',
    },
  },
  settings: {
    baseUrl: { env: 'ANTHROPIC_BASE_URL', default: 'https://api.anthropic.com', kind: 'url' },
  },
} as const satisfies ProviderDefinition<'apiKey', 'baseUrl'>

/** Fyers API v3: the app's client id, the access token, its next token and the base URL. */
export const fyersDefinition = {
  id: 'fyers',
  name: 'Fyers',
  credentials: {
    clientId: { env: ['FYERS_CLIENT_ID'], label: 'client id' },
    accessToken: {
      env: ['FYERS_ACCESS_TOKEN'],
      next: 'FYERS_ACCESS_TOKEN_NEW',
      label: 'access token',
    },
  },
  settings: {
    baseUrl: { env: 'FYERS_BASE_URL', default: 'https://api-t1.fyers.in', kind: 'url' },
  },
} as const satisfies ProviderDefinition<'clientId' | 'accessToken', 'baseUrl'>

/** The providers keyline ships with, by id. */
export const providerDefinitions = {
  anthropic: anthropicDefinition,
  fyers: fyersDefinition,
} as const

/** A provider id keyline knows: `anthropic` or `fyers`. */
export type ProviderId = keyof typeof providerDefinitions

/** Provider ids in a stable order, for messages and validation. */
export const PROVIDER_IDS = Object.keys(providerDefinitions) as ProviderId[]

/** Every variable name the registry reads for a provider, the `_FILE` forms included. */
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

import type { CredentialDefinition } from '../catalog/definitions.ts'
import { type ProviderId, providerDefinitions } from '../catalog/providers.ts'
import type { CredentialState, ProviderSnapshot } from '../secrets/registry.ts'

/** The credential of a provider that has a next value: its name and definition. */
export interface RotatingCredential {
  readonly name: string
  readonly definition: CredentialDefinition & { readonly next: string }
}

/** The credential of `provider` that rotates (`apiKey` for Anthropic, `accessToken` for Fyers). */
export const rotatingCredential = (provider: ProviderId): RotatingCredential => {
  const credentials: Record<string, CredentialDefinition> =
    providerDefinitions[provider].credentials
  for (const [name, definition] of Object.entries(credentials)) {
    if (definition.next) return { name, definition: { ...definition, next: definition.next } }
  }
  throw new TypeError(`${provider} has no credential that rotates`)
}

/** The state of the rotating credential in a provider snapshot. */
export const rotatingState = (snapshot: ProviderSnapshot): CredentialState => {
  const { name } = rotatingCredential(snapshot.provider)
  return (snapshot.credentials as Record<string, CredentialState>)[name] as CredentialState
}

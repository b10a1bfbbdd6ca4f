export {
  anthropicDefinition,
  type CredentialDefinition,
  fyersDefinition,
  PROVIDER_IDS,
  type ProviderDefinition,
  type ProviderId,
  providerDefinitions,
  type SettingDefinition,
  variablesOf,
} from './definitions.ts'
export { FINGERPRINT_MIN_LENGTH, fingerprint, REDACTED } from './fingerprint.ts'
export type { SecretIssue, SecretIssueReason } from './issues.ts'
export { type UnusableReason, unusableReason } from './placeholder.ts'
export type { EnvRecord, FileReader } from './read-value.ts'
export {
  type CredentialState,
  type ProviderSnapshot,
  SecretRegistry,
  type SecretRegistryOptions,
  type SecretsSnapshot,
} from './registry.ts'
export { Secret, type SecretInfo, type SecretSlot } from './secret.ts'

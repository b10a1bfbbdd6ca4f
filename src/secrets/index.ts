export {
  anthropicDefinition,
  fyersDefinition,
  PROVIDER_IDS,
  type ProviderId,
  providerDefinitions,
} from '../providers/index.ts'
export {
  type CredentialDefinition,
  type ProviderDefinition,
  type SettingDefinition,
  variablesOf,
} from './definitions.ts'
export { FINGERPRINT_MIN_LENGTH, fingerprint, REDACTED } from './fingerprint.ts'
export { type UnusableReason, unusableReason } from './placeholder.ts'
export type { EnvRecord, FileReader } from './read-value.ts'
export {
  type CredentialState,
  type ProviderSnapshot,
  type SecretIssue,
  type SecretIssueReason,
  SecretRegistry,
  type SecretRegistryOptions,
  type SecretsSnapshot,
} from './registry.ts'
export { Secret, type SecretInfo, type SecretSlot } from './secret.ts'

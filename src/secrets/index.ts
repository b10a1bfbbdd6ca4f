export { anthropicDefinition } from '../catalog/anthropic.ts'
export {
  type CredentialDefinition,
  type ProviderDefinition,
  type SecretIssue,
  type SecretIssueReason,
  type SettingDefinition,
  variablesOf,
} from '../catalog/definitions.ts'
export { fyersDefinition } from '../catalog/fyers.ts'
export { PROVIDER_IDS, type ProviderId, providerDefinitions } from '../catalog/providers.ts'
export type { EnvRecord } from '../env.ts'
export { FINGERPRINT_MIN_LENGTH, fingerprint, REDACTED } from './fingerprint.ts'
export { type UnusableReason, unusableReason } from './placeholder.ts'
export type { FileReader } from './read-value.ts'
export {
  type CredentialState,
  type ProviderSnapshot,
  SecretRegistry,
  type SecretRegistryOptions,
  type SecretsSnapshot,
} from './registry.ts'
export { Secret, type SecretInfo, type SecretSlot } from './secret.ts'
export {
  AWS_CURRENT,
  AWS_PARAMETER_SUFFIX,
  AWS_PENDING,
  AWS_SECRET_SUFFIX,
  type AwsCredentials,
  type AwsCredentialsProvider,
  DEFAULT_STORE_TTL_SECONDS,
  type SecretsStoreBinding,
  STORE_BACKED_VARIABLES,
  STORE_KINDS,
  STORE_TTL_VARIABLE,
  type StoreKind,
  type StoreSourceStatus,
  StoreSources,
  type StoreSourcesOptions,
} from './stores/index.ts'
